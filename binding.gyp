{
  # The node-gyp twin of CMakeLists.txt, for node-gyp-build at install time and for
  # prebuildify (which only drives node-gyp). Keep the two in step.
  "variables": {
    "system_libs_ok": "<!(node scripts/check-system-libs.js)"
  },
  "targets": [
    {
      "target_name": "zerotier_sockets",
      "sources": [
        "<!@(node scripts/native-sources.js)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/engine",
        "/usr/include/lwip"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lsodium", "-llz4", "-llwip"]
    }
  ]
}
