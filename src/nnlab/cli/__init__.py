"""The `nnlab` command: argument parsing, dispatch, and the one place errors become `error: ...`."""

from __future__ import annotations

import argparse
import os
import sys

from nnlab.errors import Interrupted, NNLabError, did_you_mean
from nnlab.threads import wait_passively


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is an NNLabError: one `error:` line, exit 2, like any bad input;
    a mistyped command, model or option name gets a "did you mean" (argparse has it from Python 3.12 on)."""

    def error(self, message: str):
        raise NNLabError(f"{message} (see `{self.prog} --help`)")

    def _check_value(self, action, value):  # argparse's one check of a value against `choices`
        if action.choices is not None and value not in action.choices:
            choices = [str(c) for c in action.choices]
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}{did_you_mean(str(value), choices)}; "
                                                 f"choose from {', '.join(choices)}")

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if not hasattr(namespace, "_parser"):  # the innermost (sub)command's parser finishes first
            namespace._parser = self
        return namespace, extras

    def parse_args(self, args=None, namespace=None):
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = namespace._parser
            options = [o for action in parser._actions for o in action.option_strings]
            hints = [did_you_mean(e.split("=")[0], options) for e in extras if e.startswith("--")]
            parser.error(f"unrecognized arguments: {' '.join(extras)}{''.join(h for h in hints if h)}")
        return namespace


def build_parser() -> Parser:
    from nnlab.cli import data, demo, doctor, explain, gradcheck, train, viz

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show a traceback on errors; default: off")
    parser = Parser(prog="nnlab", parents=[common], epilog="Start with `nnlab demo`; `nnlab COMMAND --help` for "
                    "each command's options.",
                    description="Train small neural networks (a NumPy network with hand-written backprop, a "
                    "PyTorch MLP and CNN) and see what they learned.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True
    for module in (train, viz, explain, doctor, data, gradcheck, demo):
        module.register(commands, common)
    return parser


def report_error(error: NNLabError) -> None:
    print(f"error: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    wait_passively()  # before PyTorch loads: a busy machine slows training down, never to a crawl
    try:
        args = build_parser().parse_args(argv)
        return args.run(args) or 0
    except NNLabError as e:
        if debug:
            raise
        report_error(e)
        return 130 if isinstance(e, Interrupted) else 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early (`nnlab data list | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail too
        return 1
    finally:
        if "torch.distributed" in sys.modules and "WORLD_SIZE" in os.environ:
            from nnlab.training import distributed

            distributed.shutdown()
