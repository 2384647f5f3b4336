"""lint.man_pages - every config key a program reads and every exit status it
can return is in its man page (docs/man/, SPEC v1.1 "Packages and
services": `man organtrack-gateway` documents every config key and every
exit status).

Keys are taken from the code, not from a list kept by hand: the key
argument of every ot_conf_str/int/num/bool/child call, the second argument
of config.c's copy_str helpers, and every name in a `known[]` array, in the
files that parse each program's configuration. Exit statuses are the
integer literals main() and its sub-commands return or assign (`return 2;`,
`exit_code = 1`, `rc = 1`). A key must appear in bold (`.B key`, `\\fBkey`
or in a `.BR` list) in the man page's CONFIGURATION section, a status as a
tagged paragraph (`.B N`) in EXIT STATUS. Adding a key without documenting
it fails this test."""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

PROGRAMS = {
    "organtrack-gateway": {"config": ["gateway/config.c", "common/ot_mqtt.c"],
                           "exit": ["gateway/main.c", "gateway/status.c"]},
    "organtrack-collector": {"config": ["collector/config.c", "common/ot_mqtt.c"],
                             "exit": ["collector/main.c"]},
    "organtrack-api": {"config": ["dashboard-api/config.c"],
                       "exit": ["dashboard-api/main.c", "dashboard-api/token_cli.c"]},
    "organtrack-sensors": {"config": ["sensors/config.c"], "exit": ["sensors/main.c"]},
    "organtrack-ledger": {"config": ["ledger/main.c"], "exit": ["ledger/main.c"]},
}
IGNORED_KEYS = {"comment", "_comment", "notes"}  # free text, documented once in docs/


def c_calls(src, fn):
    """Argument lists (as text) of every call of fn in src."""
    out = []
    for m in re.finditer(r"\b" + fn + r"\s*\(", src):
        depth, i, start = 1, m.end(), m.end()
        while depth and i < len(src):
            depth += {"(": 1, ")": -1}.get(src[i], 0)
            i += 1
        args, cur, d, instr = [], "", 0, False
        for ch in src[start:i - 1]:
            if ch == '"':
                instr = not instr
            if not instr and ch in "([":
                d += 1
            if not instr and ch in ")]":
                d -= 1
            if ch == "," and d == 0 and not instr:
                args.append(cur.strip())
                cur = ""
            else:
                cur += ch
        args.append(cur.strip())
        out.append(args)
    return out


def config_keys(files):
    keys = set()
    for f in files:
        src = open(os.path.join(ROOT, f)).read()
        for fn, pos in (("ot_conf_str", 3), ("ot_conf_int", 3), ("ot_conf_num", 3),
                        ("ot_conf_bool", 3), ("ot_conf_child", 3), ("copy_str", 1)):
            for args in c_calls(src, fn):
                if len(args) > pos and re.fullmatch(r'"[A-Za-z_0-9]+"', args[pos]):
                    keys.add(args[pos].strip('"'))
        for m in re.finditer(r"known\[\]\s*=\s*\{(.*?)\};", src, re.S):
            keys |= set(re.findall(r'"([A-Za-z_0-9]+)"', m.group(1)))
    return keys - IGNORED_KEYS


def exit_statuses(files):
    st = set()
    for f in files:
        src = open(os.path.join(ROOT, f)).read()
        # only main() and the command functions (int-returning cmd_*/api__token_cli/status__print)
        st |= {int(n) for n in re.findall(r"\breturn\s+([0-9]+)\s*;", src)}
        st |= {int(n) for n in re.findall(r"\b(?:exit_code|rc|ret)\s*=\s*([0-9]+)\s*;", src)}
    return st


def section(man, name):
    m = re.search(r"^\.SH " + re.escape(name) + r"\s*$(.*?)(?=^\.SH |\Z)", man, re.M | re.S)
    return m.group(1) if m else ""


def bold_words(text):
    words = set()
    for line in text.splitlines():
        if line.startswith(".B ") or line.startswith(".BR ") or line.startswith(".BI ") \
                or line.startswith(".IB "):
            words |= set(re.findall(r"[A-Za-z_0-9.]+", line.split(" ", 1)[1].replace("\\-", "-")))
        words |= set(re.findall(r"\\fB([A-Za-z_0-9.]+)", line))
    # "mqtt.url" documents both "mqtt" and "url"
    return words | {p for w in words for p in w.split(".")}


def test_man_pages():
    failures = []
    for prog, where in PROGRAMS.items():
        path = os.path.join(ROOT, "docs", "man", prog + ".1")
        if not os.path.exists(path):
            failures.append(f"{prog}: no man page {path}")
            continue
        man = open(path).read()
        keys = config_keys(where["config"])
        documented = bold_words(section(man, "CONFIGURATION"))
        missing = sorted(keys - documented)
        if missing:
            failures.append(f"{prog}: config keys not in CONFIGURATION: {', '.join(missing)}")
        codes = exit_statuses(where["exit"])
        tagged = {int(n) for n in re.findall(r"^\.TP\n\.B ([0-9]+)\s*$", section(man, "EXIT STATUS"), re.M)}
        if codes - tagged:
            failures.append(f"{prog}: exit statuses not in EXIT STATUS: {sorted(codes - tagged)}")
        if not keys or not codes:
            failures.append(f"{prog}: found no keys ({len(keys)}) or exit statuses ({codes}) in the code")
        print(f"{prog}: {len(keys)} config keys, exit statuses {sorted(codes)}: "
              f"{'documented' if not missing and not codes - tagged else 'MISSING'}")
    if failures:
        print("FAIL man_pages:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("PASS man_pages")


if __name__ == "__main__":
    test_man_pages()
