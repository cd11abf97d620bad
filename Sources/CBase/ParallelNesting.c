#include "CBase.h"

static _Thread_local int nesting = 0;

void an_parallel_enter(void) { nesting++; }
void an_parallel_leave(void) { nesting--; }
int an_parallel_is_nested(void) { return nesting > 0; }
