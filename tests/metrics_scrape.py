"""Reading /metrics back in tests: samples by name and labels."""
from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict:
    """``{(sample name, sorted label pairs): value}`` of a scrape."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(found: dict, name: str, **labels) -> float:
    """The sum of the samples called ``name`` that carry at least these labels."""
    wanted = set(labels.items())
    return sum(value for (sample, sample_labels), value in found.items()
               if sample == name and wanted <= set(sample_labels))


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    return samples(response.content.decode())
