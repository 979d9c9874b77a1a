"""Build tracker/data/natural_earth_10m_boundaries.json.gz from world-atlas's countries-10m.json.

world-atlas (version 2.0.2, ISC licence) packages Natural Earth's 1:10m Admin 0 countries (public
domain) as TopoJSON: each country is a (multi)polygon of rings made of shared arcs. An arc used by two
different countries is a land border between them; an arc used by one country only is its coastline.

    python tools/build_boundaries.py path/to/countries-10m.json tracker/data/natural_earth_10m_boundaries.json.gz

(`make boundaries` fetches the package with npm and runs this.) Not part of the application: the
tracker reads only the output, with tracker.region.
"""

import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path

SOURCE = {
    "name": "Natural Earth 1:10m Admin 0 countries, via the npm package world-atlas",
    "package": "world-atlas",
    "version": "2.0.2",
    "file": "countries-10m.json",
    "licence": "Natural Earth: public domain; world-atlas: ISC",
    # The ISC licence asks for its notice to go with copies.
    "licence_notice": (
        "world-atlas: Copyright 2013-2019 Michael Bostock. Permission to use, copy, modify, and/or distribute "
        "this software for any purpose with or without fee is hereby granted, provided that the above copyright "
        "notice and this permission notice appear in all copies."
    ),
}
DECIMALS = 4  # about 11 m, finer than the source's quantisation (about 190 m by 400 m at the equator)


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """The arcs as absolute lon/lat points: TopoJSON quantised arcs are delta-encoded integers, each
    point the sum of the deltas so far, scaled and translated by the topology's transform."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        if transform is None:
            arcs.append([(float(x), float(y)) for x, y, *_ in arc])
            continue
        (kx, ky), (dx, dy) = transform["scale"], transform["translate"]
        x = y = 0
        points = []
        for delta_x, delta_y, *_ in arc:
            x += delta_x
            y += delta_y
            points.append((x * kx + dx, y * ky + dy))
        arcs.append(points)
    return arcs


def polygons_of(geometry: dict) -> list[list[list[int]]]:
    """The geometry's polygons, each a list of rings, each a list of arc indices (~i: arc i reversed)."""
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def flat(points: list[tuple[float, float]]) -> list[float]:
    """[lon0, lat0, lon1, lat1, ...], rounded, repeated points dropped."""
    out: list[float] = []
    for lon, lat in points:
        lon, lat = round(lon, DECIMALS), round(lat, DECIMALS)
        if out[-2:] != [lon, lat]:
            out += [lon, lat]
    return out


def on_antimeridian(points: list[tuple[float, float]]) -> bool:
    """A cut along 180 degrees (where a country's polygon is split), not a coast."""
    return all(abs(abs(lon) - 180) < 1e-6 for lon, _ in points)


def build(topology: dict) -> dict:
    countries = topology["objects"]["countries"]["geometries"]
    arcs = decode_arcs(topology)
    users: dict[int, set[int]] = defaultdict(set)
    uses: dict[int, int] = defaultdict(int)
    states, polygons = [], []
    for number, country in enumerate(countries):
        states.append({"name": (country.get("properties") or {}).get("name", ""), "id": country.get("id")})
        polygons.append(polygons_of(country))
        for polygon in polygons[-1]:
            for ring in polygon:
                for index in ring:
                    arc = index if index >= 0 else ~index
                    users[arc].add(number)
                    uses[arc] += 1
    borders, coasts = [], []
    for arc, who in sorted(users.items()):
        if len(who) == 2:
            borders.append([arc, *sorted(who)])
        elif len(who) == 1 and uses[arc] == 1 and not on_antimeridian(arcs[arc]):
            coasts.append([arc, next(iter(who))])
    return {
        "metadata": {
            **SOURCE,
            "built_by": "tools/build_boundaries.py",
            "decimals": DECIMALS,
            "format": (
                "arcs: [lon0, lat0, lon1, lat1, ...] in degrees (WGS84); states[i].polygons: rings of arc "
                "indices (~i: arc i reversed), as in TopoJSON; borders: [arc, state, state] (a land border "
                "between the two); coasts: [arc, state] (the state's coastline)"
            ),
        },
        "states": [{**state, "polygons": polygon} for state, polygon in zip(states, polygons, strict=True)],
        "arcs": [flat(points) for points in arcs],
        "borders": borders,
        "coasts": coasts,
    }


STATES_FILE = "natural_earth_10m_states.json"


def main(source: str, target: str) -> None:
    document = build(json.loads(Path(source).read_text()))
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    data = text.encode()
    if target.endswith(".gz"):
        data = gzip.compress(data, compresslevel=9, mtime=0)  # mtime 0: the same input gives the same bytes
    Path(target).write_bytes(data)
    # The states' names and codes alone, so that a deployment's REGION_STATES is checked at start
    # without reading the whole file.
    names = [[state["name"], state["id"]] for state in document["states"]]
    Path(target).with_name(STATES_FILE).write_text(json.dumps(names, ensure_ascii=False, indent=0) + "\n")
    print(
        f"{target}: {len(data) / 1e6:.2f} MB ({len(text) / 1e6:.2f} MB of JSON); {len(document['states'])} states, "
        f"{len(document['borders'])} border arcs, {len(document['coasts'])} coast arcs"
    )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
