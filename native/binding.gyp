# Native linear-algebra backend for ntk-sweep: a thin N-API addon over OpenBLAS (CBLAS) and
# LAPACKE. Built by native/build.mjs (run from `npm run prepare`); the build is optional and
# ntk-sweep falls back to the JS backend when it is missing.
#
# Debian/Ubuntu: apt-get install libopenblas-dev liblapacke-dev
{
  "targets": [
    {
      "target_name": "ntk_linalg",
      "sources": ["src/ntk_linalg.cc"],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except_all"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      # Fedora/openSUSE keep cblas.h under include/openblas; a missing -I directory is harmless.
      "include_dirs": ["/usr/include/openblas"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lopenblas", "-llapacke", "-ldl"]
    }
  ]
}
