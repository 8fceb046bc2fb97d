#!/usr/bin/python3
"""A pass-through FUSE file system whose syncs fail with EIO while a flag file exists (the fault tests).

Usage: failing_fs.py BACKING MOUNTPOINT FLAG. Every call goes to BACKING; while the file FLAG exists, fsync and
fdatasync (msync of a shared mapping too) answer EIO, as a disk that cannot write would. Runs in the foreground
until unmounted. Needs Debian's python3-fusepy and /dev/fuse.
"""
import errno
import os
import sys

from fusepy import FUSE, FuseOSError, Operations

STAT = ('st_atime', 'st_ctime', 'st_gid', 'st_mode', 'st_mtime', 'st_nlink', 'st_size', 'st_uid', 'st_blocks')
STATVFS = ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files', 'f_flag', 'f_frsize',
           'f_namemax')


class Failing(Operations):
    def __init__(self, root, flag):
        self.root = root
        self.flag = flag

    def _p(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def _fail(self):
        if os.path.exists(self.flag):
            raise FuseOSError(errno.EIO)

    def access(self, path, mode):
        if not os.access(self._p(path), mode):
            raise FuseOSError(errno.EACCES)

    def chmod(self, path, mode):
        os.chmod(self._p(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._p(path), uid, gid)

    def getattr(self, path, fh=None):
        st = os.lstat(self._p(path))
        return {k: getattr(st, k) for k in STAT}

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._p(path))

    def mkdir(self, path, mode):
        os.mkdir(self._p(path), mode)

    def rmdir(self, path):
        os.rmdir(self._p(path))

    def unlink(self, path):
        os.unlink(self._p(path))

    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))

    def link(self, target, source):
        os.link(self._p(source), self._p(target))

    def statfs(self, path):
        st = os.statvfs(self._p(path))
        return {k: getattr(st, k) for k in STATVFS}

    def utimens(self, path, times=None):
        os.utime(self._p(path), times)

    def open(self, path, flags):
        return os.open(self._p(path), flags)

    def create(self, path, mode, fi=None):
        return os.open(self._p(path), os.O_RDWR | os.O_CREAT, mode)

    def read(self, path, length, offset, fh):
        return os.pread(fh, length, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            os.ftruncate(fh, length)
        else:
            os.truncate(self._p(path), length)

    def release(self, path, fh):
        os.close(fh)

    def fsync(self, path, datasync, fh):
        self._fail()
        os.fsync(fh)

    def fsyncdir(self, path, datasync, fh):
        self._fail()


if __name__ == '__main__':
    FUSE(Failing(sys.argv[1], sys.argv[3]), sys.argv[2], foreground=True, nothreads=False)
