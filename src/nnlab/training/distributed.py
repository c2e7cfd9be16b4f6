"""torch.distributed when launched by torchrun (RANK / WORLD_SIZE set), a no-op otherwise.

Every rank trains on its shard of the same shuffled permutation; DistributedDataParallel averages
the gradients, so all ranks hold the same weights after every step, and batch norm's running
statistics are averaged after every epoch. Only rank 0 writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where it is used: a run that is not distributed needs none of it
    import torch

_CONTEXT = None


@dataclass
class Context:
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model)

    def shard(self, order: torch.Tensor) -> torch.Tensor:
        """Rank r takes every world-th index from r on; all shards get the same length."""
        if self.world == 1:
            return order
        usable = len(order) - len(order) % self.world
        return order[self.rank:usable:self.world]

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            import torch.distributed

            torch.distributed.all_reduce(t)
        return t

    def average_buffers(self, model: torch.nn.Module) -> None:
        """Batch norm's running statistics, averaged over the ranks. DDP keeps the parameters equal but
        each rank updates these from its own batches, so without this the ranks' models would differ
        (SyncBatchNorm would share the batch statistics instead, but it runs on GPUs only)."""
        if self.world == 1:
            return
        import torch.distributed

        for buffer in model.buffers():
            if buffer.is_floating_point():
                torch.distributed.all_reduce(buffer)
                buffer /= self.world

    def broadcast_text(self, text: str) -> str:
        """Rank 0's string to every rank, as bytes in a tensor (no pickle)."""
        if self.world == 1:
            return text
        import torch.distributed  # (binds torch too)

        data = torch.zeros(4096, dtype=torch.uint8)
        if self.main:
            raw = text.encode("utf-8")[:4095]
            data[:len(raw)] = torch.tensor(list(raw), dtype=torch.uint8)
        torch.distributed.broadcast(data, src=0)
        return bytes(data[data != 0].tolist()).decode("utf-8")

    def max_weight_gap(self, model: torch.nn.Module) -> float:
        """Largest |w - w_rank0| over all parameters: 0 when the ranks agree."""
        if self.world == 1:
            return 0.0
        import torch.distributed  # (binds torch too)

        gap = torch.zeros(())
        for p in model.state_dict().values():
            reference = p.detach().clone().float()
            torch.distributed.broadcast(reference, src=0)
            gap = torch.maximum(gap, (reference - p.detach().float()).abs().max().cpu())
        torch.distributed.all_reduce(gap, op=torch.distributed.ReduceOp.MAX)
        return float(gap)


def context() -> Context:
    """The process group, started on first use when torchrun launched this process."""
    global _CONTEXT
    if _CONTEXT is None:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world > 1:
            _join_process_group()
        _CONTEXT = Context(int(os.environ.get("RANK", "0")), world)
    return _CONTEXT


def _join_process_group() -> None:
    import torch.distributed  # (binds torch too)

    if not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))


def shutdown() -> None:
    """Leave the process group cleanly (a process that exits inside one aborts)."""
    import torch.distributed

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def local_processes() -> int:
    """Training processes on this machine (torchrun's LOCAL_WORLD_SIZE; 1 without torchrun): they share its cores."""
    value = os.environ.get("LOCAL_WORLD_SIZE", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1
