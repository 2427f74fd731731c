"""The whole study as one command (`bridgelab study`): the ordered stages, their wiring from one
YAML, the runner that resumes them, and the study's compute estimate."""
