"""The story's steps 1-5, one module each; every step raises ``StepFailed`` when it falls short."""
