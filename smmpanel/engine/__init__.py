"""The order engine: forwards orders upstream and keeps them in step with their providers."""
