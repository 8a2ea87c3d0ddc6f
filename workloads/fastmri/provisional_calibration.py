"""Provisional fastmri numbers from a `paceline targets --steps` record on a busy machine.

The same procedure as for criteo1tb (see :mod:`workloads.criteo1tb.provisional_calibration`):
targets and step hint from the record, budget and eval period from CPU times.

    paceline targets fastmri --scale dev --steps 600 --trials 2 --seeds 2 \\
        --algorithms nadamw,momentum --threads 1 --json fastmri.json
    python -m workloads.fastmri.provisional_calibration numbers fastmri.json
"""

from workloads.criteo1tb.provisional_calibration import cpu_times, main, numbers_from_record

__all__ = ["cpu_times", "main", "numbers_from_record"]

if __name__ == "__main__":
    main()
