import torch

from maprops.rng import SeedStreams, _signed, mix64, mix64_int, sample_categorical


def test_mix64_matches_python_reference():
    xs = [0, 1, 2**62 + 12345, 2**64 - 1]
    got = mix64(torch.tensor([_signed(x) for x in xs], dtype=torch.int64))
    assert [v & (2**64 - 1) for v in got.tolist()] == [mix64_int(x) for x in xs]


def test_a_seeds_stream_does_not_depend_on_its_block():
    block = SeedStreams([7, 3, 11])
    alone = SeedStreams([3])
    assert torch.equal(block.uniform((1, 2, 3), (4, 5))[1], alone.uniform((1, 2, 3), (4, 5))[0])
    assert torch.equal(block.permutations((9,), 17)[1], alone.permutations((9,), 17)[0])


def test_streams_differ_by_seed_and_tag_and_are_uniform():
    s = SeedStreams([0, 1])
    u = s.uniform((1,), (50_000,))
    assert not torch.equal(u[0], u[1])
    assert not torch.equal(u, s.uniform((2,), (50_000,)))
    assert abs(u.mean().item() - 0.5) < 0.01 and abs(u.var().item() - 1 / 12) < 0.005
    assert sorted(s.permutations((3,), 10)[0].tolist()) == list(range(10))


def test_sample_categorical_follows_probabilities():
    probs = torch.tensor([0.1, 0.6, 0.3]).expand(1, 60_000, 3)
    draws = sample_categorical(probs, SeedStreams([5]).uniform((1,), (60_000,)))
    freq = torch.bincount(draws.flatten(), minlength=3).double() / 60_000
    assert torch.allclose(freq, torch.tensor([0.1, 0.6, 0.3], dtype=torch.float64), atol=0.01)
