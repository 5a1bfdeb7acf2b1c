"""The text of the completion scripts: the command tree (:class:`Node` per command) as a
table, and the logic that walks the words typed so far (POSIX shell for bash and zsh, fish for
fish)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

SAFE_WORD = re.compile(r"^[\w.|=-]*$")


@dataclass
class Node:
    """One command of the tree: what may follow it."""

    subcommands: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    valued: dict[str, str] = field(default_factory=dict)  # option -> kind of its value
    arguments: list[str] = field(default_factory=list)  # kind of each positional
    repeats: bool = False  # the last positional takes several values


POSIX_LOGIC = r"""
# printf, not echo: zsh's echo prints nothing for "-"
_swarm_has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }

_swarm_valued_kind() {  # what option $2 of command $1 takes; nothing for a flag
    local pair
    for pair in $(_swarm_node "$1" valued); do
        if [ "${pair%%=*}" = "$2" ]; then printf '%s\n' "${pair#*=}"; return; fi
    done
}

_swarm_nth() {  # the kind of positional $1 (from 0); $2 is 1 when the last one repeats
    local index="$1" repeats="$2" kind last=""
    shift 2
    for kind in "$@"; do
        if [ "$index" -eq 0 ]; then printf '%s\n' "$kind"; return; fi
        index=$((index - 1)); last="$kind"
    done
    if [ -n "$repeats" ]; then printf '%s\n' "$last"; fi
}

_swarm_words() {  # the candidates of one kind of argument
    case "$1" in
        ""|-) ;;
        files) printf '%s\n' __files__ ;;
        tasks|agents) command swarm __complete "$1" 2>/dev/null ;;
        *) printf '%s\n' "$1" | tr '|' ' ' ;;
    esac
}

_swarm_candidates() {  # $1: the word being completed; then the words between swarm and it
    local cur="$1" at="" n=0 expect="" word kind=""
    shift
    for word in "$@"; do
        if [ -n "$expect" ]; then expect=""; continue; fi
        case "$word" in
            -*) expect="$(_swarm_valued_kind "$at" "$word")"; continue ;;
        esac
        if [ "$n" -eq 0 ] && _swarm_has "$(_swarm_node "$at" subs)" "$word"; then
            at="${at:+$at }$word"  # not "path": zsh ties it to PATH
        else
            n=$((n + 1))
        fi
    done
    if [ -n "$expect" ]; then
        kind="$expect"
    else
        case "$cur" in -*) _swarm_node "$at" opts; return ;; esac
        if [ "$n" -eq 0 ] && [ -n "$(_swarm_node "$at" subs)" ]; then
            _swarm_node "$at" subs; return
        fi
        kind="$(_swarm_nth "$n" "$(_swarm_node "$at" repeats)" $(_swarm_node "$at" args))"
    fi
    _swarm_words "$kind"
}
"""

BASH_HOOK = r"""
_swarm() {
    local cur="${COMP_WORDS[COMP_CWORD]}" found
    found="$(_swarm_candidates "$cur" "${COMP_WORDS[@]:1:COMP_CWORD-1}")"
    if [ "$found" = __files__ ]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$found" -- "$cur"))
    fi
}
complete -F _swarm swarm
"""

ZSH_HOOK = r"""
_swarm() {
    local -a found
    found=(${=$(_swarm_candidates "${words[CURRENT]}" "${(@)words[2,CURRENT-1]}")})
    if [[ "$found" == __files__ ]]; then _files; else compadd -- $found; fi
}
compdef _swarm swarm
"""

FISH_LOGIC = r"""
function __swarm_valued_kind --argument-names path option
    for pair in (string split -n ' ' -- (__swarm_node "$path" valued))
        set -l parts (string split -m 1 '=' -- $pair)
        if test "$parts[1]" = "$option"
            echo $parts[2]
            return
        end
    end
end

function __swarm_candidates
    set -l words (commandline -opc)
    set -e words[1]
    set -l cur (commandline -ct)
    set -l path ''
    set -l n 0
    set -l expect ''
    for word in $words
        if test -n "$expect"
            set expect ''
            continue
        end
        if string match -q -- '-*' $word
            set expect (__swarm_valued_kind "$path" $word)
            continue
        end
        if test $n -eq 0; and contains -- $word (string split -n ' ' -- (__swarm_node "$path" subs))
            set path (string trim -- "$path $word")
        else
            set n (math $n + 1)
        end
    end
    set -l kind $expect
    if test -z "$kind"
        if string match -q -- '-*' $cur
            string split -n ' ' -- (__swarm_node "$path" opts)
            return
        end
        set -l subs (string split -n ' ' -- (__swarm_node "$path" subs))
        if test $n -eq 0; and test (count $subs) -gt 0
            string join \n -- $subs
            return
        end
        set -l kinds (string split -n ' ' -- (__swarm_node "$path" args))
        set -l repeats (__swarm_node "$path" repeats)
        if test $n -lt (count $kinds)
            set kind $kinds[(math $n + 1)]
        else if test -n "$repeats"; and test (count $kinds) -gt 0
            set kind $kinds[-1]
        end
    end
    switch "$kind"
        case '' '-'
        case files
            __fish_complete_path $cur
        case tasks agents
            swarm __complete $kind 2>/dev/null
        case '*'
            string split '|' -- $kind
    end
end

complete -c swarm -f -a '(__swarm_candidates)'
"""


def render(shell: str, tree: dict[str, Node]) -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    head = f"# swarm completion for {shell}: generated by 'swarm completion {shell}'\n"
    if shell == "fish":
        return head + _fish_table(tree) + FISH_LOGIC
    hook = BASH_HOOK if shell == "bash" else ZSH_HOOK
    return head + _posix_table(tree) + POSIX_LOGIC + hook


def _fields(node: Node) -> dict[str, str]:
    fields = {
        "subs": " ".join(node.subcommands),
        "opts": " ".join(node.options),
        "valued": " ".join(f"{o}={k}" for o, k in node.valued.items()),
        "args": " ".join(node.arguments),
        "repeats": "1" if node.repeats else "",
    }
    for text in fields.values():
        if not all(SAFE_WORD.match(word) for word in text.split()):
            raise ValueError(f"a command word the completion cannot hold: {text!r}")
    return fields


def _posix_table(tree: dict[str, Node]) -> str:
    lines = [
        "_swarm_node() {  # $1: a command path, $2: subs|opts|valued|args|repeats",
        '    case "$1/$2" in',
    ]
    for path, node in tree.items():
        lines += [
            f"        {shlex.quote(f'{path}/{name}')}) printf '%s\\n' {shlex.quote(text)} ;;"
            for name, text in _fields(node).items()
            if text
        ]
    return "\n".join([*lines, "    esac", "}", ""])


def _fish_table(tree: dict[str, Node]) -> str:
    lines = ["function __swarm_node --argument-names path what", '    switch "$path/$what"']
    for path, node in tree.items():
        for name, text in _fields(node).items():
            if text:
                lines += [
                    f"        case {shlex.quote(f'{path}/{name}')}",
                    f"            echo {shlex.quote(text)}",
                ]
    return "\n".join([*lines, "    end", "end", ""])
