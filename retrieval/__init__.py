"""Retrieval: embeddings, a Chroma index of labelled jobs, few-shot selection and a kNN vote."""
