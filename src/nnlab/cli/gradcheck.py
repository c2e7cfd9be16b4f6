"""`nnlab gradcheck`: the NumPy network's gradients against finite differences and autograd."""

from __future__ import annotations

from nnlab.cli.options import int_list, nonnegative_int
from nnlab.errors import NNLabError
from nnlab.scratch.network import ACTIVATIONS  # (numpy only: the parser loads it for nnlab train's choices too)


def register(commands, common) -> None:
    p = commands.add_parser("gradcheck", parents=[common],
                            help="check backprop against finite differences and PyTorch autograd")
    p.add_argument("--hidden", type=int_list, default=[5, 4], help="hidden sizes; default: 5,4")
    p.add_argument("--classes", type=int, default=2,
                   help="number of classes: 2 is the derived network, more a softmax; default: 2")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seeds the weights and data; default: 0")
    p.add_argument("--loss", choices=("log", "mse"), default="log",
                   help="log loss, or mse: the squared error of one sigmoid unit (two classes); default: log")
    p.add_argument("--activation", choices=tuple(ACTIVATIONS), default="relu",
                   help="the hidden layers' activation (nnlab train scratch --activation); default: relu")
    p.set_defaults(run=run)


def run(args) -> int:
    from nnlab.scratch.gradcheck import AUTOGRAD_TOLERANCE, FD_TOLERANCE, gradcheck
    from nnlab.scratch.network import check_loss

    if args.classes < 2 or args.classes > 1000:
        raise NNLabError(f"--classes must be between 2 and 1000, got {args.classes}")
    if any(h > 64 for h in args.hidden) or len(args.hidden) > 10:
        raise NNLabError("gradcheck differentiates one weight at a time: keep --hidden small (<= 64 units, "
                         "<= 10 layers)")
    check_loss(args.loss, args.classes == 2)
    results = gradcheck(args.hidden, args.classes, args.seed, loss=args.loss, activation=args.activation)
    kind = ("softmax + cross-entropy" if args.classes > 2 else
            "sigmoid + squared error" if args.loss == "mse" else "sigmoid + log loss")
    hidden = "" if args.activation == "relu" else f", {args.activation} hidden layers"
    print(f"network 4-{'-'.join(map(str, args.hidden))}-{1 if args.classes == 2 else args.classes} ({kind}{hidden}), "
          f"float64, seed {args.seed}")
    print(f"{'param':<6} {'shape':<10} {'vs finite diff':>15} {'vs autograd':>12}")
    for r in results:
        shape = "x".join(map(str, r.shape))
        print(f"{r.name:<6} {shape:<10} {r.fd_error:>15.2e} {r.autograd_error:>12.2e}  "
              f"{'ok' if r.passed else 'FAIL'}")
    passed = all(r.passed for r in results)
    print(f"{'all gradients agree' if passed else 'gradient check FAILED'} "
          f"(tolerances {FD_TOLERANCE:g} vs finite differences, {AUTOGRAD_TOLERANCE:g} vs autograd)")
    return 0 if passed else 1
