"""Build macros for Metronome's own code: warnings are errors here, never in system headers."""

WARNING_COPTS = ["-Wall", "-Wextra", "-Werror"]

def metronome_cc_library(name, copts = [], **kwargs):
    native.cc_library(name = name, copts = WARNING_COPTS + copts, **kwargs)

def metronome_cc_binary(name, copts = [], **kwargs):
    native.cc_binary(name = name, copts = WARNING_COPTS + copts, **kwargs)

def metronome_cc_test(name, copts = [], deps = [], **kwargs):
    native.cc_test(
        name = name,
        copts = WARNING_COPTS + copts,
        deps = deps + ["@sys//:gtest_main", "@sys//:gmock"],
        **kwargs
    )

def cc_grpc_library(name, srcs, grpc = True, deps = [], **kwargs):
    """Runs protoc (and grpc_cpp_plugin) from Debian on `srcs` in a genrule.

    Imports are relative to the package directory. Generated code is not ours, so it is
    compiled without -Werror.
    """
    root = native.package_name() or "."
    hdrs, ccs = [], []
    for src in srcs:
        rel = src[:-len(".proto")]
        hdrs.append(rel + ".pb.h")
        ccs.append(rel + ".pb.cc")
        if grpc:
            hdrs.append(rel + ".grpc.pb.h")
            ccs.append(rel + ".grpc.pb.cc")
    native.genrule(
        name = name + "_gen",
        srcs = srcs,
        outs = hdrs + ccs,
        cmd = " ".join(
            ["/usr/bin/protoc", "--proto_path=" + root, "--cpp_out=$(RULEDIR)"] +
            (["--grpc_out=$(RULEDIR)", "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin"] if grpc else []) +
            ["$(SRCS)"],
        ),
    )
    native.cc_library(
        name = name,
        srcs = ccs,
        hdrs = hdrs,
        includes = ["."],
        copts = ["-w"],
        deps = deps + ["@sys//:grpc++"],
        **kwargs
    )
