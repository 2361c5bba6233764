#!/usr/bin/env python3
"""Tests of scripts/code_shape.py on small trees made here: each rule fails
on what it should, names the file (and function), and leaves tests, strings
and comments alone."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "code_shape.py")


ROOTS = []


def tree(files, allow=None):
    root = tempfile.mkdtemp(prefix="code-shape-test-")
    ROOTS.append(root)
    files = dict(files)
    files.setdefault("crates/a/Cargo.toml", "")
    files.setdefault("src/main.rs", "fn main() {}\n")
    if allow is not None:
        files["scripts/code-shape-allow.txt"] = allow
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return root


def run(root):
    p = subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def function(name, lines):
    return f"pub fn {name}() {{\n" + "    let _x = 1;\n" * (lines - 2) + "}\n"


FAILURES = []


def check(what, cond, output):
    if not cond:
        FAILURES.append(f"{what}:\n{output}")


# A clean tree passes.
rc, out = run(tree({"crates/a/src/lib.rs": "pub mod x;\n", "crates/a/src/x.rs": function("f", 150)}))
check("clean tree", rc == 0 and "code shape: ok" in out, out)

# A function of 151 lines fails, named with its impl type.
long_method = "pub struct S;\nimpl S {\n" + function("g", 151).replace("pub fn", "    pub fn") + "}\n"
rc, out = run(tree({"crates/a/src/lib.rs": long_method}))
check("long function", rc == 1 and "crates/a/src/lib.rs:3: fn S::g is 151 lines" in out, out)

# A file of 801 lines fails; its #[cfg(test)] module and braces in strings
# and comments do not count.
body = "pub const X: u8 = 0;\n" * 801
rc, out = run(tree({"crates/a/src/lib.rs": body}))
check("long file", rc == 1 and "crates/a/src/lib.rs: 801 lines outside tests" in out, out)
with_tests = "pub const X: u8 = 0;\n" * 700 + "#[cfg(test)]\nmod tests {\n" + function("t", 300) + "}\n"
with_tests += 'pub const S: &str = "{ not a block";\n// } nor this\n'
rc, out = run(tree({"crates/a/src/lib.rs": with_tests}))
check("tests out of scope", rc == 0, out)

# Files of `#[cfg(test)] mod x;` and tests/ folders are out of scope.
rc, out = run(tree({
    "crates/a/src/lib.rs": "#[cfg(test)]\nmod tests;\n",
    "crates/a/src/tests.rs": function("t", 400),
    "crates/a/tests/big.rs": function("t", 400),
}))
check("test files out of scope", rc == 0, out)

# A cycle between siblings, through `use` and a path in code, fails.
cyc = {
    "crates/a/src/lib.rs": "pub mod p;\npub mod q;\n",
    "crates/a/src/p.rs": "use crate::q::Q;\npub struct P;\n",
    "crates/a/src/q.rs": "pub struct Q;\npub fn f() -> crate::p::P { crate::p::P }\n",
}
rc, out = run(tree(cyc))
check(
    "cycle",
    rc == 1
    and "module cycle crates/a/src/p.rs<->crates/a/src/q.rs" in out
    and "crates/a/src/p.rs:1: use crate::q::Q" in out,
    out,
)
# A child using its parent is not a cycle; `super::` to a sibling is.
rc, out = run(tree({
    "crates/a/src/lib.rs": "pub mod p;\n",
    "crates/a/src/p/mod.rs": "mod c;\nmod d;\npub struct P;\npub use c::C;\n",
    "crates/a/src/p/c.rs": "use super::P;\npub struct C;\n",
    "crates/a/src/p/d.rs": "use super::{c::C, P};\n",
}))
check("parent and child", rc == 0, out)
rc, out = run(tree({
    "crates/a/src/lib.rs": "pub mod p;\n",
    "crates/a/src/p/mod.rs": "mod c;\nmod d;\n",
    "crates/a/src/p/c.rs": "use super::d::D;\npub struct C;\n",
    "crates/a/src/p/d.rs": "pub struct D;\nfn f(_: super::c::C) {}\n",
}))
check("super cycle", rc == 1 and "crates/a/src/p/c.rs<->crates/a/src/p/d.rs" in out, out)

# Allowlisted items pass; an allowlisted item that no longer exceeds fails.
allow = textwrap.dedent("""\
    # comment
    crates/a/src/p.rs<->crates/a/src/q.rs  being split
    crates/a/src/gone.rs:f  was long
""")
rc, out = run(tree(cyc, allow))
check(
    "allowlist",
    rc == 1
    and "module cycle crates" not in out
    and "`crates/a/src/gone.rs:f` no longer exceeds the limits" in out,
    out,
)
rc, out = run(tree(cyc, "crates/a/src/p.rs<->crates/a/src/q.rs\n"))
check("allowlist reason", rc == 1 and "has no reason" in out, out)

for root in ROOTS:
    shutil.rmtree(root, ignore_errors=True)
if FAILURES:
    print("\n\n".join(FAILURES), file=sys.stderr)
    print(f"code_shape_test: {len(FAILURES)} failure(s)", file=sys.stderr)
    sys.exit(1)
print("code_shape_test: ok")
