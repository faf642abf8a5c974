{
  "targets": [
    {
      "target_name": "untapped_native",
      "sources": ["src/addon.cc"],
      "include_dirs": [
        "/usr/include/x86_64-linux-gnu/openblas-pthread",
        "/usr/include/aarch64-linux-gnu/openblas-pthread",
        "/usr/include/openblas"
      ],
      "libraries": ["-lopenblas"],
      "cflags_cc": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-std=c++17", "-fopenmp-simd", "-ffp-contract=fast"],
      "cflags_cc!": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
