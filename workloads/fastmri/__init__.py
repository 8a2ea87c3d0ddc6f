"""fastmri: U-Net reconstruction of undersampled single-coil MRI (AlgoPerf's fastMRI workload).

Dev scale reconstructs 64x64 slices of the brain templates shipped by Debian's mricron-data,
4x undersampled with the official column masks; see docs/workloads/fastmri.md.

    paceline data prepare fastmri
    paceline run --workload fastmri --submission nadamw
"""
