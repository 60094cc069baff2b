"""The ROS oracle: at each state, the joint action most under-sampled in the buffer so far.

This is the sampler the paper's theory analyses (Assumption 1, Theorems 1-2; beyond the
experiments, which never run it): MA-PROPS with a tabular softmax behavior policy and an
infinite learning rate. Starting from the target at every behavior reset, the behavior gradient
of a tabular softmax at state ``s`` is proportional to ``n(s) pi(a|s) - n(s, a)`` (with ``n``
the buffer's counts), and an infinite step puts all probability on its largest entry. So:

- at a state the buffer has not seen yet every entry is 0 and the behavior *is* the target:
  sample the joint action from the target's joint policy;
- otherwise take the joint action with the largest ``n(s) pi(a|s) - n(s, a)``; exact ties (up
  to 1e-9 of n(s)) are broken by sampling among the tied actions in proportion to pi.

The counts cover the buffer since the last target update, like MA-PROPS's buffer, and reset
with it. It needs the game's joint-state index, so only games with enumerable joint states
(exact TV sampling error: matrix games, GridWorld) can use it.
"""

from __future__ import annotations

import torch

from maprops.joint_actions import decode_joint, joint_log_probs
from maprops.rng import sample_categorical

TIE_TOLERANCE = 1e-9


class RosSampler:
    """Needs a game that enumerates its joint states (``n_states``, ``state_index``), which the
    registry entry declares."""

    @classmethod
    def from_config(cls, config, actors, target_params, game, rng):
        return cls(game, len(rng))

    def __init__(self, game, n_seeds: int):
        self.game = game
        self.counts = torch.zeros(n_seeds, game.n_states, game.n_joint_actions, dtype=torch.float64)

    def reset_to_target(self, target_params: torch.Tensor) -> None:
        """A new target: a new buffer, so the counts start again."""
        self.counts.zero_()

    @torch.no_grad()
    def act(self, obs, target_log_probs, uniforms):
        """``obs [S, E, N, D]``, target log-probs ``[S, E, N, K]``, uniforms ``[S, E, N]`` ->
        joint actions ``[S, E, N]``; the chosen actions enter the counts."""
        s, e = obs.shape[:2]
        states = self.game.state_index(obs)  # [S, E]
        policy = joint_log_probs(target_log_probs.to(torch.float64)).exp()  # [S, E, |A|]
        seeds = torch.arange(s)[:, None].expand(s, e)
        counts = self.counts[seeds, states]  # [S, E, |A|]
        visits = counts.sum(-1, keepdim=True)
        score = visits * policy - counts
        best = score.max(-1, keepdim=True).values
        chosen = policy * (score >= best - TIE_TOLERANCE * visits.clamp(min=1.0))
        joint = sample_categorical(chosen / chosen.sum(-1, keepdim=True), uniforms[..., 0])
        for env in range(e):  # environments of one seed may share a state: count them in turn
            self.counts[seeds[:, env], states[:, env], joint[:, env]] += 1
        return decode_joint(joint, self.game.n_actions)
