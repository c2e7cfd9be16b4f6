"""The `nnlab` command: argument parsing, dispatch, and the one place errors become `error: ...`."""

from __future__ import annotations

import argparse
import os
import sys

from nnlab.errors import Interrupted, NNLabError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is an NNLabError: one `error:` line, exit 2, like any bad input."""

    def error(self, message: str):
        raise NNLabError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> Parser:
    from nnlab.cli import data, demo, gradcheck, train, viz

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show a traceback on errors")
    parser = Parser(prog="nnlab", parents=[common], epilog="Start with `nnlab demo`; `nnlab COMMAND --help` for "
                    "each command's options.",
                    description="Train small neural networks (a NumPy network with hand-written backprop, a "
                    "PyTorch MLP and CNN) and see what they learned.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True
    for module in (train, viz, data, gradcheck, demo):
        module.register(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return args.run(args) or 0
    except NNLabError as e:
        if debug:
            raise
        print(f"error: {e}", file=sys.stderr)
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
