"""The story's steps 1-6, one module each; every step raises ``StepFailed`` when it falls short."""
