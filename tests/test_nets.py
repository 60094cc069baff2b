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
