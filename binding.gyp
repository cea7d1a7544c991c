{
  # The node-gyp twin of CMakeLists.txt, for node-gyp-build at install time and for
  # prebuildify (which only drives node-gyp). Keep the two in step. lwIP, libsodium and
  # liblz4 come from Debian's source packages (scripts/third-party.js fetches and prepares
  # them into build-deps/, or $ZTS_DEPS_DIR) and are compiled in.
  "variables": {
    "lwip_dir": "<!(node scripts/third-party.js --print lwip)",
    "lz4_dir": "<!(node scripts/third-party.js --print lz4)"
  },
  "targets": [
    {
      "target_name": "zerotier_sockets",
      "sources": [
        "<!@(node scripts/native-sources.js)",
        "<!@(node scripts/third-party.js --gyp-sources)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/engine",
        "native/engine/tap/lwip-port",
        "<(lwip_dir)/src/include",
        "<(lz4_dir)/lib",
        "<!(node scripts/third-party.js --print sodium-include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "LZ4LIB_VISIBILITY="],
      "cflags!": ["-fno-exceptions"],
      "cflags_c": ["-O2", "-w", "-fvisibility=hidden"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": [
        "<!(node scripts/third-party.js --print sodium-lib)",
        "-Wl,--exclude-libs,ALL"
      ]
    }
  ]
}
