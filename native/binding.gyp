# Native linear-algebra backend for ntk-sweep: a thin N-API addon over OpenBLAS (CBLAS) and
# LAPACKE. Built by native/build.mjs (run from `npm run prepare`); the build is optional and
# ntk-sweep falls back to the JS backend when it is missing.
#
# Debian/Ubuntu: apt-get install libopenblas-dev liblapacke-dev
{
  "targets": [
    {
      "target_name": "ntk_linalg",
      "sources": ["src/ntk_linalg.cc", "src/recursion.cc"],
      # node-addon-api headers with C++ exceptions; every C++ exception (std::bad_alloc too)
      # becomes a JS Error. (Set directly rather than through node-addon-api's gyp targets,
      # which make gyp write Makefiles into native/node_modules/.)
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      # Fedora/openSUSE keep cblas.h under include/openblas; a missing -I directory is harmless.
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/include/openblas"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      # -O3 vectorizes the recursion's pair loops; -ffp-contract=off keeps every multiply and add
      # separately rounded (no FMA), so the recursion matches the JS step bit for bit (recursion.cc);
      # -fno-math-errno and -fno-trapping-math let sqrt and divisions be vectorized (no change in results).
      "cflags_cc": ["-O3", "-Wall", "-Wextra", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
      "libraries": ["-lopenblas", "-llapacke", "-ldl"]
    }
  ]
}
