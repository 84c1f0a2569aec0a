"""What the tests share: data makers, fakes, scripted runs, app builders and Pilot helpers."""
