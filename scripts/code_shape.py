#!/usr/bin/env python3
"""The code-shape check (issue 16): rooms small enough to change.

Fails, naming the file (and function), when a Rust source file under crates/
or src/ is over MAX_FILE_LINES lines, when a function is over MAX_FN_LINES
lines, or when modules of one crate use each other in a cycle. Tests are out
of scope: `tests/`, `benches/`, `examples/`, `fuzz/` and `data/` folders,
`#[cfg(test)]` / `#[test]` items and the files of `#[cfg(test)] mod x;`.
A file's length counts its lines outside such items.

A cycle: module A uses (`use` or a path in code) `crate::B…` and B uses
`crate::A…`, directly or through other modules. Modules are compared where
they branch off each other: `crate::a::x` using `crate::b::y` is an edge
a → b, so `a` and `b` form a cycle when anything under `b` uses anything
under `a`. A module using its own ancestor (a child using its parent's
types) is not an edge: the parent declares the child, that is the tree.

Known items not yet fixed are listed in the allowlist (scripts/code-shape-
allow.txt): one item a line, `path`, `path:function` (`Type::method` in an
impl or trait) or `path<->path` for a cycle (the members' files, sorted,
joined by `<->`), then the reason. An allowlisted item that no longer
exceeds fails too, so the list only shrinks.

Usage: code_shape.py [--list] [ROOT]. --list prints every item over the
limits (allowlisted or not) and exits 0.
"""

import os
import re
import sys

MAX_FILE_LINES = 800
MAX_FN_LINES = 150
OUT_OF_SCOPE_DIRS = {"tests", "benches", "examples", "fuzz", "data", "target"}
ALLOWLIST = "scripts/code-shape-allow.txt"

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(text):
    """The text with comments, string and char literals blanked (newlines and
    offsets kept), so braces and keywords inside them are not code."""
    out = list(text)
    n = len(text)
    i = 0

    def blank(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    def ident_before(k):
        return k > 0 and (text[k - 1].isalnum() or text[k - 1] == "_")

    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif c in "rbc" and not ident_before(i):
            m = re.match(r'(?:br|cr|r)(#*)"', text[i:i + 300])
            if m:
                close = '"' + m.group(1)
                j = text.find(close, i + m.end())
                j = n if j < 0 else j + len(close)
                blank(i, j)
                i = j
            elif text.startswith(('b"', 'c"'), i):
                i = skip_string(text, i + 1, blank)
            elif text.startswith("b'", i):
                i = skip_char(text, i + 1, blank)
            else:
                i += 1
        elif c == '"':
            i = skip_string(text, i, blank)
        elif c == "'":
            i = skip_char(text, i, blank)
        else:
            i += 1
    return "".join(out)


def skip_string(text, i, blank):
    j = i + 1
    n = len(text)
    while j < n and text[j] != '"':
        j += 2 if text[j] == "\\" else 1
    blank(i, min(j + 1, n))
    return j + 1


def skip_char(text, i, blank):
    """A char literal ('x', '\\n', '\\u{..}') or a lifetime / label ('a)."""
    n = len(text)
    if i + 1 < n and text[i + 1] == "\\":
        j = text.find("'", i + 3)
        j = n - 1 if j < 0 else j
        blank(i, j + 1)
        return j + 1
    if i + 2 < n and text[i + 2] == "'":
        blank(i, i + 3)
        return i + 3
    return i + 1


def match_brace(clean, open_at):
    depth = 0
    for k in range(open_at, len(clean)):
        ch = clean[k]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return k
    return len(clean) - 1


def item_end(clean, start):
    """The end of the item starting at `start`: its `;` or its closing brace
    (parentheses and brackets skipped, so `[u8; 4]` does not end it)."""
    depth = 0
    for k in range(start, len(clean)):
        ch = clean[k]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch == ";":
            return k
        elif depth == 0 and ch == "{":
            return match_brace(clean, k)
    return len(clean) - 1


TEST_ATTR = re.compile(r"#\s*\[\s*(?:cfg\s*\(\s*test\s*\)|test)\s*\]")


def test_ranges(clean):
    """(start, end) offsets of #[cfg(test)] and #[test] items, and the names of
    `#[cfg(test)] mod name;` files."""
    ranges, test_mods = [], []
    for m in TEST_ATTR.finditer(clean):
        if any(a <= m.start() <= b for a, b in ranges):
            continue
        end = item_end(clean, m.end())
        ranges.append((m.start(), end))
        mm = re.match(r"\s*(?:#\s*\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;",
                      clean[m.end():end + 1])
        if mm:
            test_mods.append(mm.group(1))
    return ranges, test_mods


def in_ranges(pos, ranges):
    return any(a <= pos <= b for a, b in ranges)


def line_of(clean, pos, starts):
    # starts: sorted offsets of line starts
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= pos:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1


def impl_name(header):
    """`impl<T> Trait for Type<T> where …` → `Type`; `trait X` → `X`."""
    header = re.sub(r"\bwhere\b.*", "", header, flags=re.S)
    # Drop generic arguments, nested.
    prev = None
    while prev != header:
        prev = header
        header = re.sub(r"<[^<>]*>", "", header)
    header = header.strip()
    if header.startswith("trait") or re.match(r"(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+)?trait\b", header):
        m = re.search(r"\btrait\s+(" + IDENT + ")", header)
        return m.group(1) if m else "?"
    parts = re.split(r"\bfor\b", header)
    target = parts[-1] if len(parts) > 1 else re.sub(r"^\s*(?:unsafe\s+)?impl\b", "", parts[0])
    names = re.findall(IDENT, target)
    names = [x for x in names if x not in ("impl", "dyn", "mut", "const", "unsafe")]
    return names[-1] if names else "?"


BLOCK_HEAD = re.compile(r"\b(?:(?:unsafe\s+)?impl\b|(?:pub(?:\([^)]*\)\s*)?\s*)?(?:unsafe\s+)?trait\s+" + IDENT + ")")
FN = re.compile(r"\bfn\s+(" + IDENT + r")")


def functions(clean, tests, starts):
    """[(qualified name, first line, last line)] of every fn with a body
    outside test items."""
    blocks = []  # (open, close, name) of impl and trait blocks
    for m in BLOCK_HEAD.finditer(clean):
        if in_ranges(m.start(), tests):
            continue
        k = m.end()
        depth = 0
        while k < len(clean):
            ch = clean[k]
            if ch in "([<":
                depth += 1
            elif ch in ")]>":
                # `->` is not a closing bracket
                if not (ch == ">" and clean[k - 1] == "-"):
                    depth -= 1
            elif ch == ";" and depth <= 0:
                k = -1
                break
            elif ch == "{" and depth <= 0:
                break
            k += 1
        if k < 0 or k >= len(clean):
            continue
        blocks.append((k, match_brace(clean, k), impl_name(clean[m.start():k])))
    found = []
    for m in FN.finditer(clean):
        if in_ranges(m.start(), tests):
            continue
        k = m.end()
        depth = 0
        body = None
        while k < len(clean):
            ch = clean[k]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif depth == 0 and ch == ";":
                break
            elif depth == 0 and ch == "{":
                body = k
                break
            k += 1
        if body is None:
            continue
        end = match_brace(clean, body)
        owner = [b for b in blocks if b[0] < m.start() < b[1]]
        name = m.group(1)
        if owner:
            name = max(owner, key=lambda b: b[0])[2] + "::" + name
        found.append((name, line_of(clean, m.start(), starts), line_of(clean, end, starts)))
    return found


def line_starts(text):
    starts = [0]
    for k, ch in enumerate(text):
        if ch == "\n":
            starts.append(k + 1)
    return starts


def out_of_scope(rel):
    parts = rel.split("/")
    return any(p in OUT_OF_SCOPE_DIRS for p in parts[:-1])


class Crate:
    def __init__(self, root, src):
        self.root = root  # e.g. crates/plan, or "" for the binary
        self.src = src  # e.g. crates/plan/src
        self.modules = {}  # module path tuple -> file rel path
        self.files = {}  # file rel path -> module path tuple


def module_path(src, rel):
    inner = rel[len(src) + 1:]
    parts = inner[:-3].split("/")
    if parts == ["lib"] or parts == ["main"]:
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    if parts and parts[0] == "bin":
        return None
    return tuple(parts)


USE = re.compile(r"\buse\s+([^;]+);")
INLINE_PATH = re.compile(r"(?<![A-Za-z0-9_:])(crate|super|self)((?:\s*::\s*" + IDENT + r")+)")


def expand_use(tree):
    """`crate::{a::X, b::{Y, Z}}` → [[crate, a, X], [crate, b, Y], …]."""
    tree = re.sub(r"\s+", "", tree)
    tree = re.sub(r"\bas" + IDENT, "", tree)

    def parse(s, prefix):
        paths = []
        depth, start = 0, 0
        items = []
        for k, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(s[start:k])
                start = k + 1
        items.append(s[start:])
        for item in items:
            if not item:
                continue
            brace = item.find("{")
            if brace >= 0:
                head = [p for p in item[:brace].split("::") if p]
                paths += parse(item[brace + 1:item.rfind("}")], prefix + head)
            else:
                paths.append(prefix + [p for p in item.split("::") if p])
        return paths

    return parse(tree, [])


def resolve(path, here, is_dir_module):
    """An absolute module path for `crate::…`, `super::…`, `self::…`, else None."""
    if not path:
        return None
    if path[0] == "crate":
        return tuple(path[1:])
    if path[0] in ("super", "self"):
        base = list(here)
        rest = list(path)
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                if not base:
                    return None
                base.pop()
            rest.pop(0)
        return tuple(base + rest)
    return None


def target_module(modules, path):
    for k in range(len(path), -1, -1):
        if path[:k] in modules:
            return path[:k]
    return ()


def tarjan(nodes, edges):
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            sccs.append(scc)

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return [s for s in sccs if len(s) > 1]


def scan(root):
    """Every item over the limits: [(key, message)]."""
    sources = []
    crates = []
    for base in ["src"] + sorted(
        os.path.join("crates", d) + "/src" for d in os.listdir(os.path.join(root, "crates"))
        if os.path.isdir(os.path.join(root, "crates", d, "src"))
    ):
        crates.append(Crate(base[:-4] if base != "src" else "", base))
    for top in ("crates", "src"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if d not in OUT_OF_SCOPE_DIRS)
            for f in sorted(filenames):
                if f.endswith(".rs"):
                    sources.append(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
    parsed = {}
    test_files = set()
    for rel in sources:
        with open(os.path.join(root, rel), encoding="utf-8") as fh:
            text = fh.read()
        clean = strip(text)
        tests, test_mods = test_ranges(clean)
        parsed[rel] = (text, clean, tests)
        d = os.path.dirname(rel)
        stem = os.path.basename(rel)[:-3]
        child_dir = d if stem in ("lib", "main", "mod") else os.path.join(d, stem)
        for name in test_mods:
            test_files.add(f"{child_dir}/{name}.rs")
            test_files.add(f"{child_dir}/{name}/mod.rs")
    found = []
    for rel in sources:
        if rel in test_files or out_of_scope(rel):
            continue
        text, clean, tests = parsed[rel]
        starts = line_starts(text)
        total = len(starts) - (1 if text.endswith("\n") else 0)
        test_lines = 0
        for a, b in tests:
            test_lines += line_of(clean, b, starts) - line_of(clean, a, starts) + 1
        lines = total - test_lines
        if lines > MAX_FILE_LINES:
            found.append((rel, f"{rel}: {lines} lines outside tests (limit {MAX_FILE_LINES})"))
        for name, first, last in functions(clean, tests, starts):
            length = last - first + 1
            if length > MAX_FN_LINES:
                found.append((f"{rel}:{name}",
                              f"{rel}:{first}: fn {name} is {length} lines (limit {MAX_FN_LINES})"))
        for crate in crates:
            if rel.startswith(crate.src + "/"):
                mp = module_path(crate.src, rel)
                if mp is not None:
                    crate.modules[mp] = rel
                    crate.files[rel] = mp
    for crate in crates:
        found += cycles(crate, parsed)
    return found


def cycles(crate, parsed):
    edges, witness = {}, {}
    for rel, here in crate.files.items():
        text, clean, tests = parsed[rel]
        starts = line_starts(text)
        refs = []
        use_spans = []
        for m in USE.finditer(clean):
            if in_ranges(m.start(), tests):
                continue
            use_spans.append((m.start(), m.end()))
            for p in expand_use(m.group(1)):
                refs.append((p, m.start(), "use " + "::".join(p)))
        for m in INLINE_PATH.finditer(clean):
            if in_ranges(m.start(), tests) or in_ranges(m.start(), use_spans):
                continue
            p = [m.group(1)] + [s for s in re.split(r"\s*::\s*", m.group(2)) if s]
            refs.append((p, m.start(), "::".join(p)))
        for p, pos, shown in refs:
            absolute = resolve(p, here, rel.endswith(("/mod.rs", "/lib.rs", "/main.rs")))
            if absolute is None:
                continue
            there = target_module(crate.modules, absolute)
            common = 0
            while common < min(len(here), len(there)) and here[common] == there[common]:
                common += 1
            if common == len(here) or common == len(there):
                continue  # an ancestor or a descendant: the module tree itself
            a, b = here[:common + 1], there[:common + 1]
            edges.setdefault(a, set()).add(b)
            witness.setdefault((a, b), f"{rel}:{line_of(clean, pos, starts)}: {shown}")
    nodes = set(edges) | {b for bs in edges.values() for b in bs}
    found = []
    for scc in tarjan(nodes, edges):
        members = sorted(crate.modules.get(m, crate.src + "/" + "/".join(m)) for m in scc)
        key = "<->".join(members)
        inside = set(scc)
        lines = [witness[(a, b)] for a in sorted(scc) for b in sorted(edges.get(a, ())) if b in inside]
        found.append((key, f"module cycle {key}:\n    " + "\n    ".join(lines)))
    return found


def load_allowlist(path):
    allowed = {}
    problems = []
    if not os.path.exists(path):
        return allowed, problems
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                problems.append(f"{ALLOWLIST}:{number}: `{parts[0]}` has no reason")
                continue
            if parts[0] in allowed:
                problems.append(f"{ALLOWLIST}:{number}: `{parts[0]}` listed twice")
            allowed[parts[0]] = number
    return allowed, problems


def main(argv):
    listing = "--list" in argv
    args = [a for a in argv if a != "--list"]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    found = scan(root)
    if listing:
        for _, message in found:
            print(message)
        return 0
    allowed, problems = load_allowlist(os.path.join(root, ALLOWLIST))
    keys = {key for key, _ in found}
    for key, message in found:
        if key not in allowed:
            problems.append(message)
    for key, number in sorted(allowed.items(), key=lambda kv: kv[1]):
        if key not in keys:
            problems.append(
                f"{ALLOWLIST}:{number}: `{key}` no longer exceeds the limits (or no longer exists): "
                "remove it from the allowlist")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"code shape: {len(problems)} problem(s); files over {MAX_FILE_LINES} lines, functions over "
              f"{MAX_FN_LINES} lines and module cycles are split, not allowlisted", file=sys.stderr)
        return 1
    print(f"code shape: ok ({len(allowed)} allowlisted item(s) left to split)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
