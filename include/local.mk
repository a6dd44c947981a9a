EXTRA_DIST += include/msharefs-uapi.h
