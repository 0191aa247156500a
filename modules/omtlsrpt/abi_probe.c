/*
 * abi_probe.c - prints the sizes, offsets and values omtlsrpt relies on,
 * one per line. Compiled twice by abi-check.sh: against rsyslog's own
 * headers (-DPROBE_RSYSLOG, with its configured source tree) and against
 * our rsyslog_abi.h; the two outputs must be identical.
 */
#ifdef PROBE_RSYSLOG
#include "config.h"
#include "rsyslog.h"
/* after rsyslog.h */
#include "modules.h"
#include "objomsr.h"
#include "rainerscript.h"
#include "syslogd-types.h"
#else
#include "rsyslog_abi.h"
#endif

#include <stddef.h>
#include <stdio.h>

#define SIZE(t)   printf("sizeof %s %zu\n", #t, sizeof(t))
#define OFF(t, m) printf("offsetof %s.%s %zu\n", #t, #m, offsetof(t, m))
#define VAL(v)    printf("value %s %lld\n", #v, (long long)(v))

static void layouts(void)
{
    SIZE(struct cnfparamdescr);
    OFF(struct cnfparamdescr, name);
    OFF(struct cnfparamdescr, type);
    OFF(struct cnfparamdescr, flags);
    SIZE(struct cnfparamblk);
    OFF(struct cnfparamblk, version);
    OFF(struct cnfparamblk, nParams);
    OFF(struct cnfparamblk, descr);
    SIZE(struct cnfarray);
    OFF(struct cnfarray, nodetype);
    OFF(struct cnfarray, nmemb);
    OFF(struct cnfarray, arr);
    SIZE(struct svar);
    OFF(struct svar, d.estr);
    OFF(struct svar, d.ar);
    OFF(struct svar, d.n);
    OFF(struct svar, datatype);
    SIZE(struct cnfparamvals);
    OFF(struct cnfparamvals, val);
    OFF(struct cnfparamvals, bUsed);
    SIZE(actWrkrIParams_t);
    OFF(actWrkrIParams_t, param);
    OFF(actWrkrIParams_t, lenBuf);
    OFF(actWrkrIParams_t, lenStr);
    SIZE(ecslCmdHdrlType);
    SIZE(eModType_t);
    SIZE(eModKeepType_t);
    SIZE(syslogFeature);
    SIZE(rsRetVal);
}

static void values(void)
{
    VAL(RS_RET_OK);
    VAL(RS_RET_OUT_OF_MEMORY);
    VAL(RS_RET_PARAM_ERROR);
    VAL(RS_RET_MODULE_ENTRY_POINT_NOT_FOUND);
    VAL(RS_RET_CONFLINE_UNPROCESSED);
    VAL(RS_RET_INCOMPATIBLE);
    VAL(RS_RET_SUSPENDED);
    VAL(RS_RET_MISSING_CNFPARAMS);
    VAL(RS_RET_LEGA_ACT_NOT_SUPPORTED);
    VAL(RS_RET_DATAFAIL);
    VAL(RS_RET_CONF_PARAM_INVLD);
    VAL(CURR_MOD_IF_VERSION);
    VAL(eMOD_OUT);
    VAL(eMOD_NOKEEP);
    VAL(sFEATURERepeatedMsgReduction);
    VAL(eCmdHdlrBinary);
    VAL(eCmdHdlrInt);
    VAL(eCmdHdlrNonNegInt);
    VAL(eCmdHdlrPositiveInt);
    VAL(eCmdHdlrSize);
    VAL(eCmdHdlrGetWord);
    VAL(eCmdHdlrString);
    VAL(eCmdHdlrArray);
    VAL(CNFPARAM_REQUIRED);
    VAL(CNFPARAMBLK_VERSION);
    VAL(OMSR_NO_RQD_TPL_OPTS);
}

int main(void)
{
    layouts();
    values();
    return 0;
}
