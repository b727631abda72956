{
  "targets": [
    {
      "target_name": "mpjs_native",
      "sources": [
        "addon/addon.cc",
        "addon/shm.cc",
        "addon/futex.cc",
        "addon/fd-passing.cc",
        "addon/process-control.cc",
        "addon/polled-read.cc",
        "addon/sockets.cc",
        "addon/fd-watch.cc"
      ],
      "cflags_cc": ["-O2", "-Wall", "-Wno-unused-parameter", "-Wno-cast-function-type"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-lpthread"] }]
      ]
    }
  ]
}
