// lost's heap: freed memory kept. lost's fold grows the heap by hundreds of megabytes, and each
// page's first touch is a page fault, which costs more on a virtual machine than on bare metal.
#pragma once

namespace auditpitr {

/// Makes glibc keep the memory it is given back: blocks up to 32 MB (the most it allows) come from
/// the heap instead of mappings of their own, and freed memory at the heap's top is not returned
/// to the kernel. lost's fold frees and allocates large buffers again and again (chunks of mapped
/// events, grown vectors); each time glibc returned them, the next allocation faulted their pages
/// in again. Over 1 GB of logs, 7 runs of 20 spent 1.7-2.3 s of system time instead of 0.9-1.2 s
/// and took 0.7-1.3 s longer; with this, 1 of 30. For lost only; its peak memory grows 4%.
/// (Transparent huge pages for the heap, GLIBC_TUNABLES=glibc.malloc.hugetlb=1, are left to the
/// user: on one virtual machine they made lost 20% faster, on another twice as slow, the kernel
/// zeroing each 2 MB page on its first touch: docs/lost.md.)
void keep_freed_heap();

}  // namespace auditpitr
