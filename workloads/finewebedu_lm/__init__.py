"""finewebedu_lm: a decoder-only language model scored by validation perplexity (AlgoPerf's
ninth base workload); dev scale on the CPython documentation, official scale on FineWeb-Edu.

    paceline data prepare finewebedu_lm
    paceline run --workload finewebedu_lm --ruleset-version latest --submission nadamw
"""
