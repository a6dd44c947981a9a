EXTRA_DIST += include/msharefs-uapi.h
EXTRA_DIST += docs/pt-scaling.png docs/pt-scaling-1500.png
