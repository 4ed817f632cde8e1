/* Thread registration with the library's RCU flavour. */
#include <urcu/urcu-memb.h>

#include <cnv/core.h>

void cnv_thread_register(void) { urcu_memb_register_thread(); }

void cnv_thread_unregister(void) { urcu_memb_unregister_thread(); }
