def lr_at(step, peak, total):
    return peak * max(0.0, 1.0 - step / total)
