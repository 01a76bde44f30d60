"""Multi-stage training of agents: the AlphaGo pipeline and its GNU Go corpus. Command: ``python -m zoo.corpus``."""
