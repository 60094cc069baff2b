"""Many small tanh MLPs as one flat parameter tensor, evaluated with batched matmul.

Every network in training exists once per *replica* (a seed, or a seed x agent pair). Storing
all replicas' parameters as one ``[R, P]`` tensor and viewing it layer by layer keeps the
per-step op count independent of the number of seeds
(docs/implementation.md#stacked-networks: hand-stacked
``baddbmm`` beat ``torch.func.vmap``), and makes the optimizer, gradient clipping and resets
single tensor ops over the flat buffer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


class StackedMLP:
    """Layer layout of a tanh MLP ``sizes[0] -> ... -> sizes[-1]`` inside a flat parameter row.

    Holds shapes only; parameters are passed in, so the same layout serves target actors,
    behavior copies and their gradients alike.
    """

    def __init__(self, sizes: Sequence[int]):
        self.sizes = tuple(int(s) for s in sizes)
        self.slices: list[tuple[slice, slice]] = []
        offset = 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            w = slice(offset, offset + fan_in * fan_out)
            offset += fan_in * fan_out
            b = slice(offset, offset + fan_out)
            offset += fan_out
            self.slices.append((w, b))
        self.num_params = offset

    @property
    def last_layer(self) -> slice:
        """The flat range holding the output layer's weight and bias."""
        w, b = self.slices[-1]
        return slice(w.start, b.stop)

    def layers(self, flat: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Views ``(W [R, in, out], b [R, 1, out])`` of each layer in ``flat [R, P]``."""
        out = []
        for (w, b), fan_in, fan_out in zip(self.slices, self.sizes[:-1], self.sizes[1:]):
            out.append((flat[:, w].view(-1, fan_in, fan_out), flat[:, b].view(-1, 1, fan_out)))
        return out

    def forward(self, params: torch.Tensor | list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """``x [R, B, in] -> [R, B, out]`` with tanh between layers, none after the last.
        ``params`` is the flat ``[R, P]`` tensor or the per-layer list from :meth:`leaves`."""
        if isinstance(params, torch.Tensor):
            layers = self.layers(params)
        else:
            layers = list(zip(params[0::2], params[1::2]))
        h = x
        for i, (w, b) in enumerate(layers):
            h = torch.baddbmm(b, h, w)
            if i < len(layers) - 1:
                h = torch.tanh(h)
        return h

    def forward_cached(self, flat: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """:meth:`forward` that also returns each layer's input, for :meth:`backward`."""
        inputs = []
        layers = self.layers(flat)
        h = x
        for i, (w, b) in enumerate(layers):
            inputs.append(h)
            h = torch.baddbmm(b, h, w)
            if i < len(layers) - 1:
                h = torch.tanh(h)
        return h, inputs

    def backward(self, flat: torch.Tensor, inputs: list[torch.Tensor], d_out: torch.Tensor, grad: torch.Tensor) -> None:
        """Write d(loss)/d(params) into ``grad [R, P]`` given d(loss)/d(output) ``[R, B, out]``.

        Hand-written because the behavior update takes thousands of tiny steps per target
        update: autograd's graph bookkeeping and its zero-filled gradients for every slice of
        the flat parameter cost more than the arithmetic (tests compare with autograd)."""
        layers = self.layers(flat)
        d = d_out
        for i in reversed(range(len(layers))):
            w_slice, b_slice = self.slices[i]
            w, _ = layers[i]
            x = inputs[i]
            grad_w = grad[:, w_slice].view_as(w)
            if x.shape[1] == 1:  # one sample: an outer product, written in place (3x faster than bmm)
                torch.mul(x.transpose(1, 2), d, out=grad_w)
            else:
                grad_w.copy_(torch.bmm(x.transpose(1, 2), d))
            grad[:, b_slice].copy_(d.sum(1))
            if i > 0:
                d = torch.bmm(d, w.transpose(1, 2)).mul_(1 - x * x)  # x = tanh output of layer i-1

    def leaves(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer parameter tensors requiring grad, for autograd losses (PPO): gradients
        w.r.t. these avoid the full-size zero fill autograd makes for each slice of ``flat``."""
        return [t.detach().requires_grad_(True) for layer in self.layers(flat) for t in layer]

    def flatten_grads(self, grads: list[torch.Tensor]) -> torch.Tensor:
        """Per-layer gradients (as from :meth:`leaves`) -> one ``[R, P]`` tensor."""
        return torch.cat([g.flatten(1) for g in grads], dim=1)

    def init(self, generators: Sequence[torch.Generator], out_gain: float) -> torch.Tensor:
        """CleanRL initialization per replica: orthogonal weights (hidden gain sqrt 2, output
        gain ``out_gain``), zero biases. One generator per replica, so a replica's initial
        weights do not depend on which other replicas are built beside it."""
        flat = torch.zeros(len(generators), self.num_params)
        n_layers = len(self.slices)
        for r, gen in enumerate(generators):
            for i, ((w, _), fan_in, fan_out) in enumerate(zip(self.slices, self.sizes[:-1], self.sizes[1:])):
                gain = out_gain if i == n_layers - 1 else math.sqrt(2.0)
                weight = torch.empty(fan_out, fan_in)  # nn.Linear's layout, then transposed
                torch.nn.init.orthogonal_(weight, gain=gain, generator=gen)
                flat[r, w] = weight.t().reshape(-1)
        return flat


def clip_grad_norm_(grad: torch.Tensor, groups: int, max_norm: float) -> torch.Tensor:
    """Clip a stacked gradient ``[R, P]`` per group of ``R // groups`` consecutive rows.

    Global-norm clipping is not elementwise, so each seed (or seed x agent) gets its own norm
    (docs/implementation.md#per-seed-gradient-clipping-and-early-stopping).
    Mirrors ``torch.nn.utils.clip_grad_norm_``: scale by
    ``max_norm / (norm + 1e-6)`` when that is below 1. Returns the pre-clip norms ``[groups]``.
    """
    g = grad.view(groups, -1)
    norms = torch.linalg.vector_norm(g, dim=1)
    scale = (max_norm / (norms + 1e-6)).clamp_(max=1.0)
    g.mul_(scale[:, None])
    return norms


class StackedAdam:
    """Adam over a stacked ``[G, ...]`` parameter, one independent optimizer per group ``G``
    (a seed), with a per-group update mask.

    Adam is elementwise, so this equals one ``torch.optim.Adam`` per seed -- except that each
    seed keeps its own step count, because per-seed early stopping must skip a stopped seed's
    update entirely (zeroing its gradient would still move it through its momentum, and would
    advance the step count that drives bias correction).

    The update is PyTorch's own fused CPU kernel (``torch._fused_adam_``, the kernel behind
    ``torch.optim.Adam(fused=True)``) applied to per-seed row views: one pass over memory
    instead of the ~10 elementwise passes of an unfused Adam, which matters because the
    behavior update takes thousands of tiny steps per target update.
    """

    def __init__(self, param: torch.Tensor, groups: int, lr: float, eps: float, betas=(0.9, 0.999)):
        self.param = param
        self.lr = lr
        self.eps = eps
        self.beta1, self.beta2 = betas
        rows = param.view(groups, -1)
        self.grad = torch.zeros_like(rows)
        self.exp_avg = torch.zeros_like(rows)
        self.exp_avg_sq = torch.zeros_like(rows)
        self.steps = torch.zeros(groups)
        self._all = torch.ones(groups, dtype=torch.bool)
        self._build_views()

    def _build_views(self) -> None:
        """Per-seed row views of the parameter and the state, the fused kernel's inputs."""
        rows = self.param.view(len(self.steps), -1)
        state = (rows, self.grad, self.exp_avg, self.exp_avg_sq, self.steps)
        self._views = [tuple(t[i] for t in state) for i in range(len(self.steps))]
        self._cached_mask: torch.Tensor | None = None
        self._lists: tuple[list, ...] = ()

    def __getstate__(self):
        """Snapshots (maprops.checkpoint) keep the tensors, not the per-seed view lists: those
        are rebuilt on load, and serializing S views of S rows each would cost O(S^2) bytes."""
        state = self.__dict__.copy()
        for name in ("_views", "_cached_mask", "_lists"):
            state.pop(name)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._build_views()

    def _active_lists(self, mask: torch.Tensor | None) -> tuple[list, ...]:
        if mask is None:
            mask = self._all
        if self._cached_mask is None or not torch.equal(mask, self._cached_mask):
            chosen = [self._views[i] for i in mask.nonzero().flatten().tolist()]
            self._lists = tuple(list(col) for col in zip(*chosen)) if chosen else ()
            self._cached_mask = mask.clone()
        return self._lists

    def take(self, ids: torch.Tensor, param: torch.Tensor) -> StackedAdam:
        """An optimizer for the groups ``ids`` alone, over ``param`` (their rows, gathered by the
        caller), carrying their moments and step counts: stepping it steps those groups exactly as
        this optimizer would. :meth:`put` writes its state back."""
        sub = StackedAdam(param, len(ids), self.lr, self.eps, (self.beta1, self.beta2))
        sub.exp_avg.copy_(self.exp_avg[ids])
        sub.exp_avg_sq.copy_(self.exp_avg_sq[ids])
        sub.steps.copy_(self.steps[ids])
        return sub

    def put(self, sub: StackedAdam, ids: torch.Tensor) -> None:
        """Write back the state of ``sub = self.take(ids, ...)``."""
        self.exp_avg[ids] = sub.exp_avg
        self.exp_avg_sq[ids] = sub.exp_avg_sq
        self.steps[ids] = sub.steps

    def reset_state(self) -> None:
        """Forget every group's moments and step count: a fresh Adam, same parameters."""
        self.exp_avg.zero_()
        self.exp_avg_sq.zero_()
        self.steps.zero_()

    def snapshot(self) -> tuple[torch.Tensor, ...]:
        """Copies of the parameter rows and the state, for :meth:`restore`."""
        return (self.param.view(len(self.steps), -1).clone(), self.exp_avg.clone(), self.exp_avg_sq.clone(), self.steps.clone())

    def restore(self, snapshot: tuple[torch.Tensor, ...], groups: torch.Tensor) -> None:
        """Undo everything since ``snapshot`` for the groups where ``groups`` is True."""
        params, exp_avg, exp_avg_sq, steps = snapshot
        rows = self.param.view(len(self.steps), -1)
        for now, then in ((rows, params), (self.exp_avg, exp_avg), (self.exp_avg_sq, exp_avg_sq), (self.steps, steps)):
            now[groups] = then[groups]

    @torch.no_grad()
    def step(self, grad: torch.Tensor | None = None, mask: torch.Tensor | None = None) -> None:
        """One Adam step with ``grad`` (same shape as the parameter; default: whatever was
        written into :attr:`grad`); groups where ``mask`` is False are left exactly as they were."""
        lists = self._active_lists(mask)
        if not lists:
            return
        if grad is not None:
            self.grad.copy_(grad.view_as(self.grad))
        params, grads, exp_avgs, exp_avg_sqs, steps = lists
        self.steps.add_(self._cached_mask)  # the per-seed step views in `steps` see this
        torch._fused_adam_(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            [],
            steps,
            lr=self.lr,
            beta1=self.beta1,
            beta2=self.beta2,
            weight_decay=0.0,
            eps=self.eps,
            amsgrad=False,
            maximize=False,
        )
