"""Fakes of outside services, for the demo and the tests, speaking their real wire formats."""
