import pytest
import torch

from maprops.nets import StackedAdam, StackedMLP, clip_grad_norm_


@pytest.mark.parametrize("batch", [1, 6])  # one sample takes the outer-product path
def test_manual_backward_matches_autograd(batch):
    torch.manual_seed(0)
    mlp = StackedMLP((3, 8, 8, 5))
    flat = torch.randn(4, mlp.num_params)
    x = torch.randn(4, batch, 3)
    d_out = torch.randn(4, batch, 5)
    out, inputs = mlp.forward_cached(flat, x)
    grad = torch.zeros_like(flat)
    mlp.backward(flat, inputs, d_out, grad)

    leaf = flat.clone().requires_grad_(True)
    (mlp.forward(leaf, x) * d_out).sum().backward()
    assert torch.allclose(out, mlp.forward(flat, x))
    assert torch.allclose(grad, leaf.grad, atol=1e-5)

    leaves = mlp.leaves(flat)
    grads = torch.autograd.grad((mlp.forward(leaves, x) * d_out).sum(), leaves)
    assert torch.allclose(mlp.flatten_grads(grads), leaf.grad, atol=1e-5)


def test_stacked_adam_equals_torch_adam_per_seed_and_masks_exactly():
    torch.manual_seed(1)
    start = torch.randn(3, 10)
    grads = [torch.randn(3, 10) for _ in range(4)]
    reference = start.clone().requires_grad_(True)
    torch_adam = torch.optim.Adam([reference], lr=0.05, eps=1e-5)
    mine = StackedAdam(start.clone(), 3, lr=0.05, eps=1e-5)
    for g in grads:
        reference.grad = g.clone()
        torch_adam.step()
        mine.step(g)
    assert torch.allclose(mine.param, reference.detach(), atol=1e-6)

    masked = StackedAdam(start.clone(), 3, lr=0.05, eps=1e-5)
    keep = torch.tensor([True, False, True])
    masked.step(grads[0], keep)
    assert torch.equal(masked.param[1], start[1])
    assert masked.steps.tolist() == [1.0, 0.0, 1.0]
    assert not torch.equal(masked.param[0], start[0])


def test_grad_clipping_is_per_group():
    grad = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
    norms = clip_grad_norm_(grad, 2, max_norm=1.0)
    assert torch.allclose(norms, torch.tensor([5.0, 0.5]))
    assert torch.allclose(grad[0].norm(), torch.tensor(1.0), atol=1e-5)
    assert torch.equal(grad[1], torch.tensor([0.3, 0.4]))


ALIGNMENT_CHECK = """
import maprops, torch
torch.set_num_threads(1)
unequal = 0
for seed in range(5):
    gen = torch.Generator().manual_seed(seed)
    for rows, first in ((4, 2), (2, 1), (8, 5)):
        flat = torch.randn(rows, 4483, generator=gen)
        d = torch.rand(rows, 1, 64, generator=gen)
        in_block = torch.bmm(d, flat[:, 128:4224].view(rows, 64, 64).transpose(1, 2))[first:]
        alone = flat[first:].clone()[:, 128:4224].view(rows - first, 64, 64)
        unequal += not torch.equal(in_block, torch.bmm(d[first:].clone(), alone.transpose(1, 2)))
print(unequal)
"""


def test_matrix_products_do_not_depend_on_where_a_seed_sits_in_memory():
    """A seed's rows of a stacked parameter start at another address in every block; the
    product of its matrices must round the same anyway. Row stride 4483 floats (a 1-64-64-3
    MLP's) leaves rows unaligned; without MKL's strict mode, which importing maprops sets, 15 of
    these 15 products differed in the last bits on the development machine. A fresh process,
    because MKL reads the setting once."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MKL_CBWR"}
    out = subprocess.run([sys.executable, "-c", ALIGNMENT_CHECK], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
