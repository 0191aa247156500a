/*
 * omtlsrpt.c - the rsyslog output module: rsyslog's entry points around
 * the engine (engine.h). docs/omtlsrpt.8 describes the parameters and the
 * delivery guarantees.
 *
 * Transactions: rsyslog renders each message with the action's template
 * and hands a worker a batch; commitTransaction parses the batch and
 * commits its records to the spool under the engine's lock, so any number
 * of workers (queue.workerThreads) share one parser and one spool segment.
 * Only after the spool commit returned do we return OK and rsyslog
 * acknowledges the batch to its queue. A failed commit returns SUSPENDED:
 * rsyslog calls tryResume until the spool can be written again and then
 * hands us the same batch, which the engine recognises (no double count).
 * Nothing here waits for anything but the lock and the local disk, so the
 * module never holds up rsyslog's other actions.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "engine.h"
#include "params.h"
#include "rsyslog_abi.h"

#define MODULE_NAME "omtlsrpt"
#define EXPORTED    __attribute__((visibility("default")))

typedef struct instanceData {
    otr_engine *engine;
    atomic_int failing; /* 1 while commits fail: log transitions only */
} instanceData;

typedef struct wrkrInstanceData {
    instanceData *pData;
    otr_worker *worker;
} wrkrInstanceData_t;

static int module_id; /* its address identifies the module (modGetID) */

static rsRetVal modExit(void)
{
    return RS_RET_OK;
}

static rsRetVal modGetID(void **pID)
{
    *pID = &module_id;
    return RS_RET_OK;
}

static rsRetVal getType(eModType_t *t)
{
    *t = eMOD_OUT;
    return RS_RET_OK;
}

static rsRetVal getKeepType(eModKeepType_t *t)
{
    *t = eMOD_NOKEEP;
    return RS_RET_OK;
}

static rsRetVal getModCnfName(uchar **name)
{
    *name = (uchar *)MODULE_NAME;
    return RS_RET_OK;
}

static rsRetVal dbgPrintInstInfo(void *pModData)
{
    (void)pModData;
    return RS_RET_OK;
}

/* Repeated-message reduction would merge lines we must count. */
static rsRetVal isCompatibleWithFeature(syslogFeature f)
{
    (void)f;
    return RS_RET_INCOMPATIBLE;
}

/* Legacy selector lines: only action(type="omtlsrpt" ...) is supported. */
static rsRetVal parseSelectorAct(uchar **pp, void **ppModData,
                                 omodStringRequest_t **ppOMSR)
{
    static const char tag[] = ":" MODULE_NAME ":";

    (void)ppModData;
    (void)ppOMSR;
    if (!pp || !*pp || strncmp((const char *)*pp, tag, sizeof tag - 1) != 0)
        return RS_RET_CONFLINE_UNPROCESSED;
    LogError(0, RS_RET_LEGA_ACT_NOT_SUPPORTED,
             MODULE_NAME ": legacy syntax is not supported, use "
                         "action(type=\"" MODULE_NAME "\" ...)");
    return RS_RET_LEGA_ACT_NOT_SUPPORTED;
}

static rsRetVal request_template(omodStringRequest_t **ppOMSR,
                                 const char *template_name)
{
    char *name;
    rsRetVal r;

    if ((r = OMSRconstruct(ppOMSR, 1)) != RS_RET_OK)
        return r;
    if (!(name = strdup(template_name)))
        r = RS_RET_OUT_OF_MEMORY;
    else /* rsyslog takes ownership of name */
        r = OMSRsetEntry(*ppOMSR, 0, (uchar *)name, OMSR_NO_RQD_TPL_OPTS);
    if (r != RS_RET_OK) {
        if (r != RS_RET_OUT_OF_MEMORY)
            free(name);
        OMSRdestruct(*ppOMSR);
        *ppOMSR = NULL;
    }
    return r;
}

/* Called by rsyslogd -N1 too: nothing here touches the disk but reading
 * configFile. The spool is opened by the first commit. */
static rsRetVal newActInst(uchar *modName, struct nvlst *lst, void **ppModData,
                           omodStringRequest_t **ppOMSR)
{
    struct cnfparamvals *vals;
    instanceData *pData = NULL;
    otr_config cfg;
    char err[512];
    rsRetVal ret;
    int r;

    (void)modName;
    *ppOMSR = NULL;
    if (!(vals = nvlstGetParams(lst, &otr_params_blk, NULL)))
        return RS_RET_MISSING_CNFPARAMS; /* rsyslog said why */
    r = otr_params_read(vals, &cfg, err, sizeof err);
    cnfparamvalsDestruct(vals, &otr_params_blk);
    if (r < 0) {
        LogError(0, RS_RET_CONF_PARAM_INVLD, MODULE_NAME ": %s", err);
        return r == -ENOMEM ? RS_RET_OUT_OF_MEMORY : RS_RET_CONF_PARAM_INVLD;
    }
    if ((ret = request_template(ppOMSR, cfg.template_name)) != RS_RET_OK)
        goto fail;
    ret = RS_RET_OUT_OF_MEMORY;
    if (!(pData = calloc(1, sizeof *pData)))
        goto fail;
    if ((r = otr_engine_new(&pData->engine, &cfg)) < 0) {
        LogError(-r, RS_RET_CONF_PARAM_INVLD, MODULE_NAME ": cannot start");
        goto fail;
    }
    *ppModData = pData;
    return RS_RET_OK;
fail:
    otr_config_clear(&cfg);
    free(pData);
    if (*ppOMSR) {
        OMSRdestruct(*ppOMSR);
        *ppOMSR = NULL;
    }
    return ret;
}

/* At shutdown (and config unload): open sessions are finished like
 * tlsrpt ingest does at the end of a file, then committed. */
static rsRetVal freeInstance(void *pModData)
{
    instanceData *pData = pModData;
    int r;

    if (!pData)
        return RS_RET_OK;
    r = otr_engine_close(pData->engine);
    if (r < 0)
        LogError(-r, RS_RET_SUSPENDED,
                 MODULE_NAME ": final commit failed; records of sessions "
                             "open at shutdown are lost");
    free(pData);
    return RS_RET_OK;
}

static rsRetVal createWrkrInstance(wrkrInstanceData_t **ppWrkrData,
                                   instanceData *pData)
{
    wrkrInstanceData_t *w = calloc(1, sizeof *w);

    if (!w || otr_worker_new(&w->worker) < 0) {
        free(w);
        return RS_RET_OUT_OF_MEMORY;
    }
    w->pData = pData;
    *ppWrkrData = w;
    return RS_RET_OK;
}

static rsRetVal freeWrkrInstance(wrkrInstanceData_t *w)
{
    if (w) {
        otr_worker_free(w->worker);
        free(w);
    }
    return RS_RET_OK;
}

static rsRetVal beginTransaction(wrkrInstanceData_t *w)
{
    (void)w;
    return RS_RET_OK;
}

/* otr_line_fn over rsyslog's batch: one template per message. */
static void batch_line(void *ctx, size_t i, const char **line, size_t *len)
{
    const actWrkrIParams_t *p = ctx;

    *line = p[i].param ? (const char *)p[i].param : "";
    *len = p[i].param ? p[i].lenStr : 0;
}

static void note_state(instanceData *pData, int r)
{
    if (r < 0 && atomic_exchange(&pData->failing, 1) == 0)
        LogError(-r, RS_RET_SUSPENDED,
                 MODULE_NAME ": spool commit failed, suspending until the "
                             "spool can be written");
    else if (r == 0 && atomic_exchange(&pData->failing, 0) == 1)
        LogMsg(0, RS_RET_OK, LOG_INFO,
               MODULE_NAME ": spool writable again, resumed");
}

static rsRetVal commitTransaction(wrkrInstanceData_t *w,
                                  actWrkrIParams_t *pParams, unsigned nParams)
{
    int r = otr_engine_commit(w->pData->engine, w->worker, nParams, batch_line,
                              pParams);

    note_state(w->pData, r);
    return r < 0 ? RS_RET_SUSPENDED : RS_RET_OK;
}

static rsRetVal tryResume(wrkrInstanceData_t *w)
{
    return otr_engine_probe(w->pData->engine) < 0 ? RS_RET_SUSPENDED
                                                  : RS_RET_OK;
}

/* SIGHUP: new spool segment at the next commit; stats file rewritten. */
static rsRetVal doHUP(instanceData *pData)
{
    int r = otr_engine_hup(pData->engine);

    if (r < 0)
        LogError(-r, RS_RET_SUSPENDED, MODULE_NAME ": reopen on HUP failed");
    return RS_RET_OK;
}

static const struct {
    const char *name;
    rs_entry_fn fn;
} entry_points[] = {
    {"modExit", RS_ENTRY(modExit)},
    {"modGetID", RS_ENTRY(modGetID)},
    {"getType", RS_ENTRY(getType)},
    {"getKeepType", RS_ENTRY(getKeepType)},
    {"getModCnfName", RS_ENTRY(getModCnfName)},
    {"dbgPrintInstInfo", RS_ENTRY(dbgPrintInstInfo)},
    {"isCompatibleWithFeature", RS_ENTRY(isCompatibleWithFeature)},
    {"parseSelectorAct", RS_ENTRY(parseSelectorAct)},
    {"newActInst", RS_ENTRY(newActInst)},
    {"freeInstance", RS_ENTRY(freeInstance)},
    {"createWrkrInstance", RS_ENTRY(createWrkrInstance)},
    {"freeWrkrInstance", RS_ENTRY(freeWrkrInstance)},
    {"beginTransaction", RS_ENTRY(beginTransaction)},
    {"commitTransaction", RS_ENTRY(commitTransaction)},
    {"tryResume", RS_ENTRY(tryResume)},
    {"doHUP", RS_ENTRY(doHUP)},
};

static rsRetVal queryEtryPt(uchar *name, rs_entry_fn *fn)
{
    if (!name || !fn)
        return RS_RET_PARAM_ERROR;
    for (size_t i = 0; i < sizeof entry_points / sizeof entry_points[0]; i++)
        if (strcmp((const char *)name, entry_points[i].name) == 0) {
            *fn = entry_points[i].fn;
            return RS_RET_OK;
        }
    *fn = NULL;
    return RS_RET_MODULE_ENTRY_POINT_NOT_FOUND;
}

/* The one symbol rsyslogd looks up (exports.map). Interface version 6 has
 * not changed since 2010; rsyslogd checks nothing else. */
EXPORTED rsRetVal modInit(int iIFVersRequested, int *ipIFVersProvided,
                          rsRetVal (**pQueryEtryPt)(uchar *, rs_entry_fn *),
                          void *pHostQueryEtryPt, modInfo_t *pModInfo);

EXPORTED rsRetVal modInit(int iIFVersRequested, int *ipIFVersProvided,
                          rsRetVal (**pQueryEtryPt)(uchar *, rs_entry_fn *),
                          void *pHostQueryEtryPt, modInfo_t *pModInfo)
{
    (void)iIFVersRequested;
    (void)pHostQueryEtryPt;
    (void)pModInfo;
    if (!ipIFVersProvided || !pQueryEtryPt)
        return RS_RET_PARAM_ERROR;
    *ipIFVersProvided = CURR_MOD_IF_VERSION;
    *pQueryEtryPt = queryEtryPt;
    return RS_RET_OK;
}
