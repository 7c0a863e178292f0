print("pgha-play: under construction")
