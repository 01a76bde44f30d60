"""AlphaGo (Lee): SL policy, fast rollout policy, RL policy, value net, and MCTS mixing rollouts with the value net.

    config.py      AlphaGoConfig (``conf/agent/alphago.yaml``) and the stage names
    policy.py      policy and value nets, move sampling, batched games between two policies
    supervised.py  fitting the SL policy, the linear rollout policy and the value net; their accuracies
    reinforce.py   the RL policy by REINFORCE against a pool of earlier versions; value-net positions
    search.py      the leaf-value mix (1 - lambda) * v + lambda * z_rollout on the shared batched PUCT search
    agent.py       AlphaGoAgent: the parts, checkpoints, select_moves / select_move / act

The stages run from ``zoo/alphago_pipeline.py`` (``python train.py env=go9 agent=alphago``).
"""

from agents.alphago.agent import AlphaGoAgent
from agents.alphago.config import STAGES, AlphaGoConfig

__all__ = ["STAGES", "AlphaGoAgent", "AlphaGoConfig"]
