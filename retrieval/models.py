"""What the job index returns: neighbours, statistics and add reports (pydantic)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Neighbour(BaseModel):
    """One indexed job returned by a similarity query."""

    workflow: str
    run: str
    job: str
    transformation: str
    host: str
    label: str = Field(description="raw label: None, cpu_K or hdd_K")
    cls: str = Field(description="normal, cpu or hdd")
    anomalous: bool
    distance: float = Field(description="cosine distance to the query (0 = identical)")
    text: str = ""


class CollectionStats(BaseModel):
    name: str
    workflow: str
    template: str
    embedder: str
    jobs: int
    runs: int
    classes: dict[str, int]


class IndexStats(BaseModel):
    location: str
    collections: list[CollectionStats]

    @property
    def jobs(self) -> int:
        return sum(c.jobs for c in self.collections)


class AddReport(BaseModel):
    runs: int = 0
    jobs: int = 0
    added: int = Field(default=0, description="vectors new to the index (0 when re-adding a run)")
    skipped: list[str] = Field(default_factory=list, description="runs without labels")
