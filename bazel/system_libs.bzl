"""A repository rule wrapping Debian's system libraries as cc_library targets."""

def _words(text):
    return [w for w in text.replace("\n", " ").replace("\t", " ").split(" ") if w]

def _system_cc_libs_impl(rctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, pkgs in rctx.attr.pkg_config.items():
        cflags = rctx.execute(["pkg-config", "--cflags"] + pkgs)
        libs = rctx.execute(["pkg-config", "--libs"] + pkgs)
        if cflags.return_code != 0 or libs.return_code != 0:
            fail("pkg-config failed for %s (%s): %s%s; run ./dev test to install the packages" %
                 (name, pkgs, cflags.stderr, libs.stderr))
        defines = [f[2:] for f in _words(cflags.stdout) if f.startswith("-D")]
        linkopts = _words(libs.stdout)
        lines.append("cc_library(name = %r, defines = %r, linkopts = %r)" % (name, defines, linkopts))
    for name, linkopts in rctx.attr.manual.items():
        lines.append("cc_library(name = %r, linkopts = %r)" % (name, linkopts))
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", "\n".join(lines) + "\n")

system_cc_libs = repository_rule(
    implementation = _system_cc_libs_impl,
    local = True,
    attrs = {
        "pkg_config": attr.string_list_dict(),
        "manual": attr.string_list_dict(),
    },
)
