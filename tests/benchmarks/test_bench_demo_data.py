def test_large_demo_generates_in_under_a_minute(large_db):
    path, counts, elapsed = large_db
    total = sum(counts.values())
    print(f"\n[bench] large demo: {total:,} documents ({counts['users']:,} users, {counts['messages']:,} messages, "
          f"{counts['jobs']:,} jobs) in {elapsed:.1f} s = {total / elapsed:,.0f} documents/s; "
          f"file {path.stat().st_size / 1e9:.2f} GB (target < 60 s)")
    assert counts["users"] == 100_000 and counts["messages"] == 1_000_000 and counts["jobs"] == 1_000_000
    assert elapsed < 60
