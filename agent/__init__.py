"""The LangGraph agent that gathers tool evidence and produces a structured verdict."""
