EXTRA_DIST += include/msharefs-uapi.h
EXTRA_DIST += docs/pt-scaling.png
