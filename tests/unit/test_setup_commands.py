"""Every external command the scripts, the Makefile and CI call is installed by scripts/setup.sh or is part of a
bare Debian 12 system (or of the machine's documented toolchain). A tool installed by hand once hides a broken
setup until a fresh machine runs the suite (this happened with rsync)."""
import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if not os.path.exists(os.path.join(ROOT, "scripts", "setup.sh")):
    # `ansible-test units` runs on the collection as it ships, without the repository's scripts.
    pytest.skip("the repository's scripts are not here (collection-only copy)", allow_module_level=True)

# Commands of a bare Debian 12 system (packages of priority required and important).
DEBIAN_BASE = set("""
bash sh dash cat cp mv rm mkdir rmdir ln ls chmod chown chgrp touch date echo printf test [ true false head tail
wc sort uniq cut tr tee basename dirname readlink realpath mktemp sleep seq env id whoami stat du df sha256sum
sha1sum md5sum base64 yes nproc nohup timeout install expr tac split join paste comm fold od dd sync uname hostname
grep egrep fgrep sed awk mawk find xargs tar gzip gunzip zcat diff cmp mount umount kill ps pgrep pkill sysctl ip
getent which apt-get apt apt-cache dpkg dpkg-query tput su runuser flock setsid logger nice ionice free uptime
systemctl journalctl chroot stty numfmt shuf truncate mknod sum cksum csplit ptx pr tsort unexpand expand
""".split())
# The machine's toolchain, on every machine of this project's kind before setup runs (the workplace's env notes).
MACHINE = {"python3", "git", "go", "make", "node", "npm", "gcc"}
SHELL_WORDS = set("""
if then else elif fi for while until do done case esac in function select time ! { } [[ ]] (( )) return exit set
unset export local declare readonly shift trap cd pushd popd source . : eval exec wait read break continue
let shopt pwd type command printf echo test [ true false alias umask hash getopts builtin caller jobs fg bg disown
""".split())

SCRIPTS = ([os.path.join(dp, f) for dp, dn, fs in os.walk(os.path.join(ROOT, "scripts")) for f in fs if f.endswith(".sh")]
           + [os.path.join(ROOT, "benchmarks", f) for f in os.listdir(os.path.join(ROOT, "benchmarks")) if f.endswith(".sh")]
           + [os.path.join(ROOT, ".ci", "run")])


def setup_apt_commands():
    """Commands setup.sh installs from Debian: its APT_TOOLS list of <command>:<package>."""
    text = open(os.path.join(ROOT, "scripts", "setup.sh")).read()
    block = re.search(r"^APT_TOOLS=\((.*?)^\)", text, re.M | re.S).group(1)
    block = re.sub(r"#.*", "", block)
    return dict(entry.split(":", 1) for entry in block.split())


def _logical_lines(text):
    """Lines with continuations joined, comments and here-document bodies dropped."""
    out, heredoc, pending = [], None, ""
    for raw in text.splitlines():
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            continue
        line = pending + raw
        pending = ""
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        if m:
            heredoc = m.group(1)
        out.append(line)
    return out


def _strip_comment(line):
    """The line without its comment: a # at the start of a word, outside quotes (not ${x#y} or $#)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t;|&("):
            return line[:i]
    return line


def _substitutions(line):
    """The command substitutions $(...) and `...` of a line (also inside double quotes), innermost too."""
    subs, depth, start = [], 0, None
    i = 0
    while i < len(line):
        if line.startswith("$((", i):
            i += 3
            continue
        if line.startswith("$(", i):
            if depth == 0:
                start = i + 2
            depth += 1
            i += 2
            continue
        if line[i] == "(" and depth:
            depth += 1
        elif line[i] == ")" and depth:
            depth -= 1
            if depth == 0:
                subs.append(line[start:i])
        i += 1
    subs += re.findall(r"`([^`]*)`", line)
    return subs + [x for sub in subs for x in _substitutions(sub)]


def commands_of(text, functions=()):
    """The first word of every simple command: after a separator, a subshell or a command substitution."""
    found = set()
    lines = []
    for line in _logical_lines(text):
        line = _strip_comment(line)
        lines.append(line)
        lines.extend(_substitutions(line))
    for line in lines:
        # Quoted strings, parameter expansions and arithmetic hold data, not commands.
        line = re.sub(r"\$\(\(.*?\)\)", " ", line)
        line = re.sub(r"\$\([^()]*\)", " x ", line)
        line = re.sub(r"'[^']*'", " x ", line)
        line = re.sub(r'"(\\.|[^"\\])*"', " x ", line)
        line = re.sub(r"\$\{[^}]*\}", " x ", line)
        # A case pattern before its command: "  unit)  python ..." or "  x86_64|amd64) ...".
        line = re.sub(r"^\s*[^\s()]+\)(\s|$)", " ", line)
        line = re.sub(r";;\s*[^\s()]+\)", ";; ", line)
        line = re.sub(r"\b(for|select)\s+\w+\s+in\b[^;]*", " ", line)
        # Array assignments: STAGES=(unit integration ...).
        line = re.sub(r"[A-Za-z_][A-Za-z0-9_]*\+?=\([^)]*\)", " ", line)
        for piece in re.split(r"\|\||&&|[|;&`]|\(|\)|\{|\}|\bthen\b|\bdo\b|\belse\b|\bif\b|\bwhile\b|\buntil\b|!", line):
            words = piece.split()
            while words and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=", words[0])
                             or words[0] in ("exec", "nohup", "time", "env", "sudo", "then", "do", "else", "!")):
                words = words[1:]
            if not words:
                continue
            word = words[0]
            if word in ("command", "type", "hash", "x") or word.startswith(("$", "-", ">", "<", "[", "*", "2>", "1>")):
                continue
            if word == "timeout" and len(words) > 2:
                word = words[2]
            if word == "xargs" and len(words) > 1:
                rest = [w for w in words[1:] if not w.startswith("-")]
                if rest:
                    found.add(rest[0])
            if re.match(r"^[A-Za-z0-9_.+/-]+$", word) and not word.isdigit():
                found.add(word)
    return {w for w in found if w not in SHELL_WORDS and w not in functions}


def _script_commands(path):
    text = open(path).read()
    functions = set(re.findall(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(\)", text, re.M))
    return commands_of(text, functions)


def _makefile_commands():
    recipes = [line[1:].lstrip("@-") for line in open(os.path.join(ROOT, "Makefile")).read().splitlines()
               if line.startswith("\t")]
    recipes = [re.sub(r"\$\([A-Za-z_]+\)", "x", line) for line in recipes]
    return commands_of("\n".join(recipes).replace("$$", "$"))


def _allowed(word):
    if word in DEBIAN_BASE or word in MACHINE or word in setup_apt_commands():
        return True
    if "/" in word:
        # A path: the project's own scripts, or the virtualenv and tools setup installs.
        if word.startswith((".venv/bin/", ".cache/tools/bin/")):
            return True
        return os.path.exists(os.path.join(ROOT, word)) or word.startswith(("scripts/", "benchmarks/", "./"))
    # Executables setup puts in the virtualenv (requirements.txt) or builds into .cache/tools/bin.
    return any(os.path.exists(os.path.join(ROOT, d, word)) for d in (".venv/bin", ".cache/tools/bin"))


def test_the_extractor_sees_commands():
    text = 'set -e\nfoo=1 bar --x | baz "$(qux -a)" && rsync -a x y\nif command -v zed >/dev/null; then nohup run1 & fi\n' \
           "cat <<'EOF'\nnot-a-command here\nEOF\n# comment rsync2\nxargs -0 frob < list\n"
    assert commands_of(text) == {"bar", "baz", "qux", "rsync", "run1", "cat", "xargs", "frob"}


def test_setup_installs_every_external_command_the_scripts_call():
    missing = {}
    for path in SCRIPTS:
        for word in sorted(_script_commands(path)):
            if not _allowed(word):
                missing.setdefault(word, []).append(os.path.relpath(path, ROOT))
    for word in sorted(_makefile_commands()):
        if not _allowed(word):
            missing.setdefault(word, []).append("Makefile")
    assert not missing, ("commands neither installed by scripts/setup.sh (add <command>:<package> to APT_TOOLS) "
                         "nor part of a bare Debian 12 system: %s" % missing)


def test_rsync_is_not_needed():
    """The regression itself: sanity.sh once needed rsync, which no setup step installed."""
    assert "rsync" not in open(os.path.join(ROOT, "scripts", "sanity.sh")).read()
