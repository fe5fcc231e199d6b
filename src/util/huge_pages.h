// lost's heap: transparent huge pages, and freed memory kept (keep_freed_heap). lost's fold grows
// the heap by hundreds of megabytes, and each 4 KB page's first touch is a page fault: on a virtual
// machine those faults took a fifth of lost's time over 1 GB of logs (9.4 s -> 7.5 s with huge pages).
// Where the kernel gives huge pages only on request (THP "madvise", Debian's default), glibc asks
// for them when started with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, a setting read at startup
// only: so the program starts itself once more with it.
#pragma once

namespace auditpitr {

/// Called by main once the command line is parsed, for lost only (before any thread, connection
/// or child process exists): when the kernel hands out huge pages on request and the user set
/// no glibc tunables, executes this program again, same arguments, with glibc's heap asking for
/// them; in that second start, removes the setting again so child programs do not inherit it.
/// Anything unexpected (no /proc, exec refused) leaves the program running as it is.
void use_huge_page_heap(char** argv);

/// Makes glibc keep the memory it is given back: blocks up to 32 MB (the most it allows) come from
/// the heap instead of mappings of their own, and freed memory at the heap's top is not returned
/// to the kernel. lost's fold frees and allocates large buffers again and again (chunks of mapped
/// events, grown vectors); each time glibc returned them, the next allocation faulted their pages
/// in again, as huge pages. Over 1 GB of logs, 7 runs of 20 spent 1.7-2.3 s of system time instead
/// of 0.9-1.2 s and took 0.7-1.3 s longer; with this, 1 of 30 (and no other change: the same
/// median time). For lost only, after use_huge_page_heap; its peak memory grows 4%.
void keep_freed_heap();

}  // namespace auditpitr
