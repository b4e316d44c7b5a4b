# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this file
# The extended resources of every MIG profile in policy/mig/catalog.ts (device plugin "mixed" strategy).
# The smartmig kube-scheduler sends a pod to the extender only when it requests one of these.
# test/integration/control-plane.test.ts fails when this list and the catalog drift apart.
SMARTMIG_MIG_RESOURCES=(
  # A100-40GB
  nvidia.com/mig-1g.5gb nvidia.com/mig-1g.5gb.me nvidia.com/mig-1g.10gb nvidia.com/mig-2g.10gb
  nvidia.com/mig-3g.20gb nvidia.com/mig-4g.20gb nvidia.com/mig-7g.40gb
  # A100-80GB and H100-80GB (1g.10gb above)
  nvidia.com/mig-1g.10gb.me nvidia.com/mig-1g.20gb nvidia.com/mig-2g.20gb nvidia.com/mig-3g.40gb
  nvidia.com/mig-4g.40gb nvidia.com/mig-7g.80gb
  # H200-141GB
  nvidia.com/mig-1g.18gb nvidia.com/mig-1g.18gb.me nvidia.com/mig-1g.35gb nvidia.com/mig-2g.35gb
  nvidia.com/mig-3g.71gb nvidia.com/mig-4g.71gb nvidia.com/mig-7g.141gb
  # A30-24GB
  nvidia.com/mig-1g.6gb nvidia.com/mig-1g.6gb.me nvidia.com/mig-2g.12gb nvidia.com/mig-2g.12gb.me
  nvidia.com/mig-4g.24gb
  # H100-94GB (H100 NVL)
  nvidia.com/mig-1g.12gb nvidia.com/mig-1g.12gb.me nvidia.com/mig-1g.24gb nvidia.com/mig-2g.24gb
  nvidia.com/mig-3g.47gb nvidia.com/mig-4g.47gb nvidia.com/mig-7g.94gb
  # B200-180GB
  nvidia.com/mig-1g.23gb nvidia.com/mig-1g.23gb.me nvidia.com/mig-1g.45gb nvidia.com/mig-2g.45gb
  nvidia.com/mig-3g.90gb nvidia.com/mig-4g.90gb nvidia.com/mig-7g.180gb
  # GB200-186GB (1g.23gb and 1g.23gb.me above)
  nvidia.com/mig-1g.47gb nvidia.com/mig-2g.47gb nvidia.com/mig-3g.93gb nvidia.com/mig-4g.93gb
  nvidia.com/mig-7g.186gb
  # RTX-PRO-6000-96GB (1g.24gb above)
  nvidia.com/mig-1g.24gb.me nvidia.com/mig-2g.48gb nvidia.com/mig-4g.96gb
)
