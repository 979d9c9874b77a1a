"""The category catalogue as it stood before issue 14 (migration 0012), written out by hand: every
(domain, category) pair stored incidents may hold, which the catalogue must keep valid for ever."""

ANY_DOMAIN = "unusual_military_activity"
BEFORE_ISSUE_14: dict[str, tuple[str, ...]] = {
    "air": (
        "unsafe_intercept",
        "uncooperative_flight",
        "airspace_violation",
        "simulated_attack",
        "aerobatics_over_ship",
        "object_dropped",
    ),
    "maritime": (
        "unsafe_manoeuvre",
        "impeding_formation",
        "weapon_aiming",
        "searchlight_illumination",
        "collision",
        "harassment_of_non_military_ship",
    ),
    "land": ("unintended_territory_entry", "stray_fire"),
    "cyber_em": ("laser", "jamming_c2_interference", "fire_control_lock_on"),
    "space": (),
    "hybrid": ("gnss_jamming", "disinformation", "infrastructure_disruption", "cyber_operation"),
}
OLD_PAIRS: list[tuple[str, str]] = [
    (domain, category) for domain, categories in BEFORE_ISSUE_14.items() for category in (*categories, ANY_DOMAIN)
]
