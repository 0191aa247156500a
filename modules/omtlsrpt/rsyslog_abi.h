/*
 * rsyslog_abi.h - the part of rsyslog's output module ABI (8.x, module
 * interface version 6) that omtlsrpt uses, declared by us so the module
 * builds outside rsyslog's source tree against the stock rsyslogd.
 *
 * Every layout below is pinned with _Static_assert (x86-64, LP64) and
 * compared with rsyslog's own headers by `make abi-check`
 * (modules/omtlsrpt/abi-check.sh, abi_probe.c). Names follow rsyslog's so
 * that a reader can look each one up there (runtime/rsyslog.h,
 * runtime/typedefs.h, runtime/modules.h, grammar/rainerscript.h,
 * runtime/objomsr.h, runtime/errmsg.h).
 *
 * The functions declared at the end are exported by the rsyslogd
 * executable (nm -D /usr/sbin/rsyslogd) and resolve when the module is
 * loaded; the module is therefore linked without -z defs.
 */
#ifndef OMTLSRPT_RSYSLOG_ABI_H
#define OMTLSRPT_RSYSLOG_ABI_H

#include <libestr.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned char uchar;
typedef int rsRetVal;

/* Return codes (runtime/rsyslog.h, enum rsRetVal_). */
enum {
    RS_RET_OK = 0,
    RS_RET_OUT_OF_MEMORY = -6,
    RS_RET_PARAM_ERROR = -1000,
    RS_RET_MODULE_ENTRY_POINT_NOT_FOUND = -1004,
    RS_RET_CONFLINE_UNPROCESSED = -2001,
    RS_RET_INCOMPATIBLE = -2003,
    RS_RET_SUSPENDED = -2007,
    RS_RET_MISSING_CNFPARAMS = -2211,
    RS_RET_LEGA_ACT_NOT_SUPPORTED = -2215,
    RS_RET_DATAFAIL = -2218,
    RS_RET_CONF_PARAM_INVLD = -2425,
};

/* The module interface version rsyslogd expects (runtime/modules.h). */
#define CURR_MOD_IF_VERSION 6

/* runtime/modules.h */
typedef enum eModType_ {
    eMOD_IN = 0,
    eMOD_OUT = 1,
} eModType_t;
typedef enum eModKeepType_ {
    eMOD_NOKEEP = 0,
    eMOD_KEEP = 1,
} eModKeepType_t;

/* runtime/syslogd-types.h */
typedef enum _syslogFeature {
    sFEATURERepeatedMsgReduction = 1,
} syslogFeature;

/* runtime/typedefs.h: parameter types of struct cnfparamdescr. */
typedef enum cslCmdHdlrType {
    eCmdHdlrBinary = 4,
    eCmdHdlrInt = 6,
    eCmdHdlrNonNegInt = 7,
    eCmdHdlrPositiveInt = 8,
    eCmdHdlrSize = 9,
    eCmdHdlrGetWord = 13,
    eCmdHdlrString = 14,
    eCmdHdlrArray = 15,
} ecslCmdHdrlType;

/* runtime/objomsr.h: template options requested per template. */
#define OMSR_NO_RQD_TPL_OPTS 0

/* grammar/rainerscript.h */
#define CNFPARAM_REQUIRED   0x0001
#define CNFPARAMBLK_VERSION 1

struct nvlst; /* opaque: the name/value list of an action() statement */
typedef struct omodStringRequest_s omodStringRequest_t; /* opaque */
typedef struct modInfo_s modInfo_t;                     /* opaque */

struct cnfparamdescr {
    const char *name;
    ecslCmdHdrlType type;
    unsigned flags;
};

struct cnfparamblk {
    unsigned short version;
    unsigned short nParams;
    struct cnfparamdescr *descr;
};

struct cnfarray {
    unsigned nodetype;
    int nmemb;
    es_str_t **arr;
} __attribute__((aligned(8)));

struct svar {
    union {
        es_str_t *estr;
        struct cnfarray *ar;
        long long n;
        void *json;
    } d;
    char datatype; /* 'N' number, 'S' string, 'A' array, 'J' JSON */
};

struct cnfparamvals {
    struct svar val;
    unsigned char bUsed;
};

/* runtime/rsyslog.h: one template rendering of one message of a batch;
 * message i, template t is p[i * nTemplates + t]. */
typedef struct actWrkrIParams {
    uchar *param;
    uint32_t lenBuf; /* size of the buffer */
    uint32_t lenStr; /* length of the string in it */
} actWrkrIParams_t;

_Static_assert(sizeof(void *) == 8, "the ABI header is for LP64 targets");
_Static_assert(sizeof(ecslCmdHdrlType) == 4, "enum is int-sized");
_Static_assert(sizeof(struct cnfparamdescr) == 16, "cnfparamdescr size");
_Static_assert(offsetof(struct cnfparamdescr, type) == 8, "descr.type");
_Static_assert(offsetof(struct cnfparamdescr, flags) == 12, "descr.flags");
_Static_assert(sizeof(struct cnfparamblk) == 16, "cnfparamblk size");
_Static_assert(offsetof(struct cnfparamblk, nParams) == 2, "blk.nParams");
_Static_assert(offsetof(struct cnfparamblk, descr) == 8, "blk.descr");
_Static_assert(sizeof(struct cnfarray) == 16, "cnfarray size");
_Static_assert(offsetof(struct cnfarray, nmemb) == 4, "cnfarray.nmemb");
_Static_assert(offsetof(struct cnfarray, arr) == 8, "cnfarray.arr");
_Static_assert(sizeof(struct svar) == 16, "svar size");
_Static_assert(offsetof(struct svar, datatype) == 8, "svar.datatype");
_Static_assert(sizeof(struct cnfparamvals) == 24, "cnfparamvals size");
_Static_assert(offsetof(struct cnfparamvals, bUsed) == 16, "vals.bUsed");
_Static_assert(sizeof(actWrkrIParams_t) == 16, "actWrkrIParams size");
_Static_assert(offsetof(actWrkrIParams_t, lenBuf) == 8, "iparams.lenBuf");
_Static_assert(offsetof(actWrkrIParams_t, lenStr) == 12, "iparams.lenStr");

/* An entry point as handed out by queryEtryPt. rsyslog declares these
 * with an empty parameter list and casts them to the right type on use;
 * we hand them out through void (*)(void), which any function pointer
 * converts to and from. */
typedef rsRetVal (*rs_entry_fn)(void);
#define RS_ENTRY(fn) ((rs_entry_fn)(void (*)(void))(fn))

/* Exported by rsyslogd. */
struct cnfparamvals *nvlstGetParams(struct nvlst *lst,
                                    struct cnfparamblk *params,
                                    struct cnfparamvals *vals);
void cnfparamvalsDestruct(const struct cnfparamvals *vals,
                          const struct cnfparamblk *blk);
rsRetVal OMSRconstruct(omodStringRequest_t **ppThis, int iNumEntries);
rsRetVal OMSRsetEntry(omodStringRequest_t *pThis, int iEntry, uchar *pTplName,
                      int iTplOpts);
rsRetVal OMSRdestruct(omodStringRequest_t *pThis);
void LogError(const int iErrno, const int iErrCode, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void LogMsg(const int iErrno, const int iErrCode, const int severity,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
