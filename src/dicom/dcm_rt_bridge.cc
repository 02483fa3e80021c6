/*
 * dcm_rt_bridge.cc — the RT half of the DCMTK bridge: RT Plan, RT Ion Plan,
 * RT Dose, RT Structure Set and CT image headers <-> the plain C structures
 * of hm_rtdicom.h.  It only moves values (parsing DS/IS into numbers,
 * inheriting control point values, scaling dose pixels); technique
 * inference and geometric validation are C (rt_plan.c, rt_check.c).
 *
 * Module and attribute definitions: DICOM PS3.3 C.8.8.3 (RT Dose),
 * C.8.8.5-C.8.8.8 (Structure Set, ROI Contour, RT ROI Observations),
 * C.8.8.9-C.8.8.14 (RT General Plan, Prescription, Fraction Scheme, Beams),
 * C.8.8.25 (RT Ion Beams), C.7.6.2 (Image Plane).
 */
#include "hm_rtdicom.h"
#include "rt_int.h"
#include "dcm_internal.hh"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace {

/* ---- reading helpers ---------------------------------------------------- */

/* "DoseGridScaling (3004,000E)" for messages. */
std::string tagdesc(const DcmTagKey &k)
{
    DcmTag t(k);
    char buf[128];
    snprintf(buf, sizeof buf, "%s (%04X,%04X)", t.getTagName(), k.getGroup(), k.getElement());
    return buf;
}

int fail(hm_error *err, int code, const char *name, const DcmTagKey &k, const std::string &what)
{
    std::string f = tagdesc(k);
    return hm_error_set(err, code, name, 0, f.c_str(), "%s: %s", f.c_str(), what.c_str());
}

void get_str(DcmItem *item, const DcmTagKey &tag, char *dst, size_t size)
{
    OFString s;
    dst[0] = '\0';
    if (item->findAndGetOFStringArray(tag, s, OFFalse).bad())
        return;
    size_t n = s.length() < size - 1 ? s.length() : size - 1;
    memcpy(dst, s.c_str(), n);
    dst[n] = '\0';
    while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '\0'))
        dst[--n] = '\0';
    size_t lead = 0;
    while (dst[lead] == ' ')
        lead++;
    if (lead)
        memmove(dst, dst + lead, n - lead + 1);
}

/* Number of values of an element (0 when absent or empty). */
unsigned long vm(DcmItem *item, const DcmTagKey &tag)
{
    DcmElement *e = NULL;
    if (item->findAndGetElement(tag, e, OFFalse).bad() || !e || e->getLength() == 0)
        return 0;
    return e->getVM();
}

/* A DS/IS/FL/FD value (pos) as double; false when absent or not a number. */
bool get_num(DcmItem *item, const DcmTagKey &tag, double *v, unsigned long pos = 0)
{
    DcmElement *e = NULL;
    if (item->findAndGetElement(tag, e, OFFalse).bad() || !e || e->getLength() == 0)
        return false;
    DcmEVR vr = e->getTag().getEVR();
    if (vr == EVR_FL) {
        Float32 f;
        if (e->getFloat32(f, pos).bad())
            return false;
        *v = f;
    } else if (vr == EVR_FD) {
        Float64 d;
        if (e->getFloat64(d, pos).bad())
            return false;
        *v = d;
    } else if (vr == EVR_US) {
        Uint16 u;
        if (e->getUint16(u, pos).bad())
            return false;
        *v = u;
    } else {
        OFString s;
        if (e->getOFString(s, pos, OFTrue).bad())
            return false;
        char *end = NULL;
        errno = 0;
        double d = strtod(s.c_str(), &end);
        while (end && *end == ' ')
            end++;
        if (end == s.c_str() || !end || *end || errno || !std::isfinite(d))
            return false;
        *v = d;
    }
    return true;
}

int get_int(DcmItem *item, const DcmTagKey &tag, int dflt)
{
    double v;
    if (!get_num(item, tag, &v) || v < -2147483647.0 || v > 2147483647.0)
        return dflt;
    return (int)v;
}

/* Reads exactly n numbers; a message when the count differs or one is bad. */
int get_nums(DcmItem *item, const DcmTagKey &tag, double *out, unsigned long n,
             const char *name, const char *ctx, hm_error *err)
{
    unsigned long m = vm(item, tag);
    if (m != n)
        return fail(err, HM_EVALIDATE, name, tag,
                    std::string(ctx) + " has " + std::to_string(m) + " values, expected "
                        + std::to_string(n) + "; the file is malformed, re-export it");
    for (unsigned long i = 0; i < n; i++)
        if (!get_num(item, tag, &out[i], i))
            return fail(err, HM_EPARSE, name, tag,
                        std::string(ctx) + ": value " + std::to_string(i + 1)
                            + " is not a number");
    return 0;
}

DcmItem *seq_item(DcmItem *item, const DcmTagKey &tag, unsigned long i = 0)
{
    DcmItem *r = NULL;
    if (item->findAndGetSequenceItem(tag, r, (signed long)i).bad())
        return NULL;
    return r;
}

unsigned long seq_card(DcmItem *item, const DcmTagKey &tag)
{
    DcmSequenceOfItems *s = NULL;
    if (item->findAndGetSequence(tag, s).bad() || !s)
        return 0;
    return s->card();
}

void read_common(DcmItem *ds, hm_rtdcm_common *c)
{
    get_str(ds, DCM_SOPClassUID, c->sop_class_uid, sizeof c->sop_class_uid);
    get_str(ds, DCM_SOPInstanceUID, c->sop_instance_uid, sizeof c->sop_instance_uid);
    get_str(ds, DCM_StudyInstanceUID, c->study_uid, sizeof c->study_uid);
    get_str(ds, DCM_SeriesInstanceUID, c->series_uid, sizeof c->series_uid);
    get_str(ds, DCM_FrameOfReferenceUID, c->frame_of_reference_uid,
            sizeof c->frame_of_reference_uid);
    get_str(ds, DCM_Modality, c->modality, sizeof c->modality);
    get_str(ds, DCM_PatientID, c->patient_id, sizeof c->patient_id);
    get_str(ds, DCM_PatientBirthDate, c->patient_birth_date, sizeof c->patient_birth_date);
    get_str(ds, DCM_PatientSex, c->patient_sex, sizeof c->patient_sex);
    get_str(ds, DCM_StudyDate, c->study_date, sizeof c->study_date);
}

/* Parses a buffer and checks its SOP class is one of `want` (NULL-ended). */
int open_ds(const void *data, size_t size, const char *name, DcmFileFormat &ff,
            const char *const *want, const char *what, hm_error *err)
{
    int rc = hm_dcm_parse_buffer(data, size, name, ff, err);
    if (rc)
        return rc;
    char sop[HM_RTDCM_UID_LEN];
    get_str(ff.getDataset(), DCM_SOPClassUID, sop, sizeof sop);
    for (const char *const *w = want; *w; w++)
        if (!strcmp(sop, *w))
            return 0;
    const char *sopname = sop[0] ? dcmFindNameOfUID(sop, sop) : "none";
    return fail(err, HM_EUNSUPPORTED, name, DCM_SOPClassUID,
                std::string("SOP class is ") + sopname + ", not " + what
                    + "; give the reader the right kind of file");
}

/* ---- RT Plan ------------------------------------------------------------ */

int read_cp(DcmItem *ci, const hm_rtdcm_cp *prev, hm_rtdcm_cp *cp, bool ion,
            const char *name, hm_error *err)
{
    if (prev) {
        *cp = *prev;            /* inherit (C.8.8.14.5); arrays copied below */
        cp->mlc_mm = NULL;
        cp->spot_xy_mm = cp->spot_weight = NULL;
        cp->nspots = 0;
        if (prev->mlc_pairs) {
            cp->mlc_mm = (double *)malloc(2 * (size_t)prev->mlc_pairs * sizeof(double));
            if (!cp->mlc_mm)
                return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
            memcpy(cp->mlc_mm, prev->mlc_mm, 2 * (size_t)prev->mlc_pairs * sizeof(double));
        }
    }
    double v;
    if (!get_num(ci, DCM_CumulativeMetersetWeight, &cp->cum_meterset_weight))
        cp->cum_meterset_weight = prev ? prev->cum_meterset_weight : 0;
    if (get_num(ci, DCM_GantryAngle, &v))
        cp->gantry_deg = v;
    if (vm(ci, DCM_GantryRotationDirection))
        get_str(ci, DCM_GantryRotationDirection, cp->gantry_rotation, sizeof cp->gantry_rotation);
    if (get_num(ci, DCM_BeamLimitingDeviceAngle, &v))
        cp->collimator_deg = v;
    if (get_num(ci, DCM_PatientSupportAngle, &v))
        cp->couch_deg = v;
    if (get_num(ci, DCM_NominalBeamEnergy, &v))
        cp->energy_mev = v;
    if (get_num(ci, DCM_DoseRateSet, &v))
        cp->dose_rate_mu_min = v;
    if (vm(ci, DCM_IsocenterPosition)) {
        int rc = get_nums(ci, DCM_IsocenterPosition, cp->iso_mm, 3, name, "IsocenterPosition", err);
        if (rc)
            return rc;
    }
    if (get_num(ci, DCM_SnoutPosition, &v))
        cp->snout_mm = v;
    unsigned long nd = seq_card(ci, DCM_BeamLimitingDevicePositionSequence);
    for (unsigned long d = 0; d < nd; d++) {
        DcmItem *di = seq_item(ci, DCM_BeamLimitingDevicePositionSequence, d);
        char type[20];
        get_str(di, DCM_RTBeamLimitingDeviceType, type, sizeof type);
        unsigned long n = vm(di, DCM_LeafJawPositions);
        double *dst = NULL;
        double jaw[2];
        if (!strcmp(type, "X") || !strcmp(type, "ASYMX") || !strcmp(type, "Y")
            || !strcmp(type, "ASYMY")) {
            dst = jaw;
            if (n != 2)
                return fail(err, HM_EVALIDATE, name, DCM_LeafJawPositions,
                            std::string("jaw ") + type + " has " + std::to_string(n)
                                + " positions, expected 2");
        } else if (!strncmp(type, "MLC", 3)) {
            if (n == 0 || n % 2 || n > 2000)
                return fail(err, HM_EVALIDATE, name, DCM_LeafJawPositions,
                            "MLC has " + std::to_string(n) + " leaf positions, expected an "
                                "even number (two banks)");
            if (cp->mlc_pairs && (unsigned long)cp->mlc_pairs * 2 != n)
                return fail(err, HM_EVALIDATE, name, DCM_LeafJawPositions,
                            "MLC leaf count changes between control points");
            free(cp->mlc_mm);
            cp->mlc_pairs = (int)(n / 2);
            cp->mlc_mm = dst = (double *)malloc(n * sizeof(double));
            if (!dst)
                return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
        } else {
            continue;
        }
        for (unsigned long i = 0; i < n; i++)
            if (!get_num(di, DCM_LeafJawPositions, &dst[i], i))
                return fail(err, HM_EPARSE, name, DCM_LeafJawPositions, "not a number");
        if (dst == jaw) {
            double *j = (type[0] == 'X' || !strcmp(type, "ASYMX")) ? cp->jaw_x_mm : cp->jaw_y_mm;
            j[0] = jaw[0];
            j[1] = jaw[1];
        }
    }
    if (ion) {
        unsigned long ns = vm(ci, DCM_ScanSpotPositionMap);
        if (ns) {
            int nspots = get_int(ci, DCM_NumberOfScanSpotPositions, -1);
            if (nspots < 1 || (unsigned long)nspots * 2 != ns
                || vm(ci, DCM_ScanSpotMetersetWeights) != (unsigned long)nspots)
                return fail(err, HM_EVALIDATE, name, DCM_NumberOfScanSpotPositions,
                            "does not match ScanSpotPositionMap (300A,0394) / "
                            "ScanSpotMetersetWeights (300A,0396)");
            cp->nspots = nspots;
            cp->spot_xy_mm = (double *)malloc(ns * sizeof(double));
            cp->spot_weight = (double *)malloc((size_t)nspots * sizeof(double));
            if (!cp->spot_xy_mm || !cp->spot_weight)
                return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
            for (unsigned long i = 0; i < ns; i++)
                if (!get_num(ci, DCM_ScanSpotPositionMap, &cp->spot_xy_mm[i], i))
                    return fail(err, HM_EPARSE, name, DCM_ScanSpotPositionMap, "not a number");
            for (int i = 0; i < nspots; i++)
                if (!get_num(ci, DCM_ScanSpotMetersetWeights, &cp->spot_weight[i], (unsigned long)i))
                    return fail(err, HM_EPARSE, name, DCM_ScanSpotMetersetWeights,
                                "not a number");
        }
    }
    return 0;
}

int read_beam(DcmItem *bi, hm_rtdcm_beam *b, bool ion, const char *name, hm_error *err)
{
    b->number = get_int(bi, DCM_BeamNumber, -1);
    if (b->number < 0)
        return fail(err, HM_EVALIDATE, name, DCM_BeamNumber, "absent or not an integer");
    get_str(bi, DCM_BeamName, b->name, sizeof b->name);
    get_str(bi, DCM_TreatmentMachineName, b->machine, sizeof b->machine);
    get_str(bi, DCM_RadiationType, b->radiation_type, sizeof b->radiation_type);
    get_str(bi, DCM_BeamType, b->beam_type, sizeof b->beam_type);
    get_str(bi, DCM_TreatmentDeliveryType, b->delivery_type, sizeof b->delivery_type);
    get_str(bi, DCM_PrimaryDosimeterUnit, b->dosimeter_unit, sizeof b->dosimeter_unit);
    if (ion) {
        get_str(bi, DCM_ScanMode, b->scan_mode, sizeof b->scan_mode);
        get_num(bi, DCM_VirtualSourceAxisDistances, &b->sad_mm);
    } else {
        get_num(bi, DCM_SourceAxisDistance, &b->sad_mm);
    }
    get_num(bi, DCM_FinalCumulativeMetersetWeight, &b->final_meterset_weight);
    b->n_wedges = get_int(bi, DCM_NumberOfWedges, 0);
    b->n_blocks = get_int(bi, DCM_NumberOfBlocks, 0);
    b->n_compensators = get_int(bi, DCM_NumberOfCompensators, 0);
    b->n_boli = get_int(bi, DCM_NumberOfBoli, 0);
    if (ion) {
        b->n_snouts = (int)seq_card(bi, DCM_SnoutSequence);
        b->n_range_modulators = get_int(bi, DCM_NumberOfRangeModulators, 0);
        b->n_range_shifters = get_int(bi, DCM_NumberOfRangeShifters, 0);
        b->n_lateral_spreaders = get_int(bi, DCM_NumberOfLateralSpreadingDevices, 0);
    }
    const DcmTagKey &cpseq = ion ? DCM_IonControlPointSequence : DCM_ControlPointSequence;
    unsigned long n = seq_card(bi, cpseq);
    if (n == 0)
        return fail(err, HM_EVALIDATE, name, cpseq,
                    "beam " + std::to_string(b->number) + " has no control points");
    int declared = get_int(bi, DCM_NumberOfControlPoints, -1);
    if (declared >= 0 && (unsigned long)declared != n)
        return fail(err, HM_EVALIDATE, name, DCM_NumberOfControlPoints,
                    "beam " + std::to_string(b->number) + " declares "
                        + std::to_string(declared) + " control points, the sequence has "
                        + std::to_string(n));
    b->cps = (hm_rtdcm_cp *)calloc(n, sizeof *b->cps);
    if (!b->cps)
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
    b->ncp = n;
    for (unsigned long i = 0; i < n; i++) {
        int rc = read_cp(seq_item(bi, cpseq, i), i ? &b->cps[i - 1] : NULL, &b->cps[i], ion,
                         name, err);
        if (rc)
            return rc;
    }
    return 0;
}

int read_plan(DcmDataset *ds, hm_rtdcm_plan *p, const char *name, hm_error *err)
{
    read_common(ds, &p->c);
    p->ion = !strcmp(p->c.sop_class_uid, HM_RTDCM_SOP_ION_PLAN);
    get_str(ds, DCM_RTPlanLabel, p->label, sizeof p->label);
    get_str(ds, DCM_RTPlanName, p->name, sizeof p->name);
    get_str(ds, DCM_RTPlanDate, p->date, sizeof p->date);
    get_str(ds, DCM_RTPlanTime, p->time, sizeof p->time);
    if (DcmItem *r = seq_item(ds, DCM_ReferencedStructureSetSequence))
        get_str(r, DCM_ReferencedSOPInstanceUID, p->ref_struct_uid, sizeof p->ref_struct_uid);
    unsigned long nd = seq_card(ds, DCM_ReferencedDoseSequence);
    for (unsigned long i = 0; i < nd && p->n_ref_doses < HM_RTDCM_MAX_REFS; i++)
        get_str(seq_item(ds, DCM_ReferencedDoseSequence, i), DCM_ReferencedSOPInstanceUID,
                p->ref_dose_uids[p->n_ref_doses++], HM_RTDCM_UID_LEN);
    /* Related plans (C.8.8.9): the lineage a revised plan carries. */
    unsigned long nrp = seq_card(ds, DCM_ReferencedRTPlanSequence);
    for (unsigned long i = 0; i < nrp && p->n_ref_plans < HM_RTDCM_MAX_REFS; i++) {
        DcmItem *r = seq_item(ds, DCM_ReferencedRTPlanSequence, i);
        hm_rtdcm_plan_ref *q = &p->ref_plans[p->n_ref_plans];
        get_str(r, DCM_ReferencedSOPInstanceUID, q->uid, sizeof q->uid);
        get_str(r, DCM_RTPlanRelationship, q->relationship, sizeof q->relationship);
        if (q->uid[0])
            p->n_ref_plans++;
    }

    unsigned long nr = seq_card(ds, DCM_DoseReferenceSequence);
    if (nr) {
        p->doserefs = (hm_rtdcm_doseref *)calloc(nr, sizeof *p->doserefs);
        if (!p->doserefs)
            return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
        p->ndoserefs = nr;
    }
    for (unsigned long i = 0; i < nr; i++) {
        DcmItem *ri = seq_item(ds, DCM_DoseReferenceSequence, i);
        hm_rtdcm_doseref *d = &p->doserefs[i];
        d->number = get_int(ri, DCM_DoseReferenceNumber, 0);
        get_str(ri, DCM_DoseReferenceStructureType, d->structure_type, sizeof d->structure_type);
        get_str(ri, DCM_DoseReferenceType, d->type, sizeof d->type);
        get_str(ri, DCM_DoseReferenceDescription, d->description, sizeof d->description);
        d->roi_number = get_int(ri, DCM_ReferencedROINumber, 0);
        get_num(ri, DCM_TargetPrescriptionDose, &d->target_rx_dose_gy);
    }

    /* Beam meterset and dose come from the first fraction group. */
    p->n_fraction_groups = (int)seq_card(ds, DCM_FractionGroupSequence);
    DcmItem *fg = seq_item(ds, DCM_FractionGroupSequence);
    if (fg)
        p->fractions_planned = get_int(fg, DCM_NumberOfFractionsPlanned, 0);

    const DcmTagKey &bseq = p->ion ? DCM_IonBeamSequence : DCM_BeamSequence;
    unsigned long nb = seq_card(ds, bseq);
    if (nb == 0)
        return fail(err, HM_EVALIDATE, name, bseq,
                    "the plan has no beams (brachytherapy plans are not read)");
    p->beams = (hm_rtdcm_beam *)calloc(nb, sizeof *p->beams);
    if (!p->beams)
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
    p->nbeams = nb;
    for (unsigned long i = 0; i < nb; i++) {
        int rc = read_beam(seq_item(ds, bseq, i), &p->beams[i], p->ion, name, err);
        if (rc)
            return rc;
    }
    unsigned long nrb = fg ? seq_card(fg, DCM_ReferencedBeamSequence) : 0;
    for (unsigned long i = 0; i < nrb; i++) {
        DcmItem *rb = seq_item(fg, DCM_ReferencedBeamSequence, i);
        int num = get_int(rb, DCM_ReferencedBeamNumber, -1);
        for (size_t k = 0; k < p->nbeams; k++)
            if (p->beams[k].number == num) {
                get_num(rb, DCM_BeamMeterset, &p->beams[k].meterset);
                get_num(rb, DCM_BeamDose, &p->beams[k].beam_dose_gy);
            }
    }
    hm_rtdcm_plan_summarise(p);
    return 0;
}

/* ---- RT Dose ------------------------------------------------------------ */

int read_dose(DcmDataset *ds, E_TransferSyntax xfer, hm_rtdcm_dose *d, const char *name,
              hm_error *err)
{
    read_common(ds, &d->c);
    int rc = get_nums(ds, DCM_ImagePositionPatient, d->ipp_mm, 3, name, "ImagePositionPatient", err);
    if (!rc)
        rc = get_nums(ds, DCM_ImageOrientationPatient, d->iop, 6, name, "ImageOrientationPatient", err);
    if (!rc)
        rc = get_nums(ds, DCM_PixelSpacing, d->spacing_mm, 2, name, "PixelSpacing", err);
    if (rc)
        return rc;
    d->rows = get_int(ds, DCM_Rows, 0);
    d->cols = get_int(ds, DCM_Columns, 0);
    d->nframes = get_int(ds, DCM_NumberOfFrames, 1);
    if (d->rows < 1 || d->cols < 1)
        return fail(err, HM_EVALIDATE, name, DCM_Rows, "Rows/Columns absent or zero");
    if (d->nframes < 1)
        return fail(err, HM_EVALIDATE, name, DCM_NumberOfFrames, "less than 1");
    get_str(ds, DCM_DoseUnits, d->dose_units, sizeof d->dose_units);
    get_str(ds, DCM_DoseType, d->dose_type, sizeof d->dose_type);
    get_str(ds, DCM_DoseSummationType, d->summation_type, sizeof d->summation_type);
    if (DcmItem *r = seq_item(ds, DCM_ReferencedRTPlanSequence))
        get_str(r, DCM_ReferencedSOPInstanceUID, d->ref_plan_uid, sizeof d->ref_plan_uid);
    if (!get_num(ds, DCM_DoseGridScaling, &d->scaling) || !(d->scaling > 0))
        return fail(err, HM_EVALIDATE, name, DCM_DoseGridScaling,
                    "absent or not a positive number: stored values cannot be converted to "
                    "dose; re-export the RT Dose with its dose grid scaling");

    /* Frame offsets: required for multi-frame grids (C.8.8.3.2). */
    unsigned long no = vm(ds, DCM_GridFrameOffsetVector);
    if (d->nframes > 1 || no) {
        if (no != (unsigned long)d->nframes)
            return fail(err, HM_EVALIDATE, name, DCM_GridFrameOffsetVector,
                        "has " + std::to_string(no) + " offsets but NumberOfFrames (0028,0008) is "
                            + std::to_string(d->nframes) + "; the grid's slices are undefined");
    }
    d->frame_offsets_mm = (double *)calloc((size_t)d->nframes, sizeof(double));
    if (!d->frame_offsets_mm)
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
    d->offsets_relative = 1;
    if (no) {
        rc = get_nums(ds, DCM_GridFrameOffsetVector, d->frame_offsets_mm, no, name,
                      "GridFrameOffsetVector", err);
        if (rc)
            return rc;
        /* C.8.8.3.2: first element 0 -> relative to ImagePositionPatient
         * (type a); equal to its z -> absolute z positions (type b, axial only). */
        if (d->frame_offsets_mm[0] == 0.0) {
            d->offsets_relative = 1;
        } else if (fabs(d->frame_offsets_mm[0] - d->ipp_mm[2]) < 1e-3) {
            d->offsets_relative = 0;
            bool axial = fabs(d->iop[0] - 1) < 1e-6 && fabs(d->iop[4] - 1) < 1e-6;
            if (!axial)
                return fail(err, HM_EVALIDATE, name, DCM_GridFrameOffsetVector,
                            "absolute offsets (first element = ImagePositionPatient z) are only "
                            "defined for axial grids (PS3.3 C.8.8.3.2)");
        } else {
            return fail(err, HM_EVALIDATE, name, DCM_GridFrameOffsetVector,
                        "first element is neither 0 nor ImagePositionPatient z (PS3.3 "
                        "C.8.8.3.2): the grid's slice positions are ambiguous");
        }
    }

    d->bits_allocated = get_int(ds, DCM_BitsAllocated, 0);
    d->pixel_signed = get_int(ds, DCM_PixelRepresentation, 0) == 1;
    if (d->bits_allocated != 16 && d->bits_allocated != 32)
        return fail(err, HM_EUNSUPPORTED, name, DCM_BitsAllocated,
                    "is " + std::to_string(d->bits_allocated) + ", RT Dose allows 16 or 32");
    DcmXfer xf(xfer);
    if (xf.isEncapsulated())
        return fail(err, HM_EUNSUPPORTED, name, DCM_PixelData,
                    std::string("compressed (") + xf.getXferName()
                        + "); decompress it first, e.g. with dcmdrle or dcmdjpeg");
    DcmElement *pe = NULL;
    if (ds->findAndGetElement(DCM_PixelData, pe).bad() || !pe)
        return fail(err, HM_EVALIDATE, name, DCM_PixelData, "absent");
    /* Voxel count in double first: a corrupt size must not wrap size_t. */
    double nvox_d = (double)d->rows * (double)d->cols * (double)d->nframes;
    if (nvox_d * (d->bits_allocated / 8) > (double)pe->getLength() + 1) {
        char need[40];
        snprintf(need, sizeof need, "%.0f", nvox_d * (d->bits_allocated / 8));
        return fail(err, HM_EVALIDATE, name, DCM_PixelData,
                    "holds " + std::to_string(pe->getLength()) + " bytes, Rows x Columns x "
                        "NumberOfFrames x BitsAllocated/8 = " + need);
    }
    size_t nvox = (size_t)d->rows * (size_t)d->cols * (size_t)d->nframes;
    size_t want = nvox * (size_t)(d->bits_allocated / 8);
    if (pe->getLength() != want && pe->getLength() != want + 1)
        return fail(err, HM_EVALIDATE, name, DCM_PixelData,
                    "holds " + std::to_string(pe->getLength()) + " bytes, Rows x Columns x "
                        "NumberOfFrames x BitsAllocated/8 = " + std::to_string(want));
    Uint16 *w = NULL;
    if (pe->getUint16Array(w).bad() || !w)
        return fail(err, HM_EPARSE, name, DCM_PixelData, "cannot be read");
    d->dose_gy = (float *)malloc(nvox * sizeof(float));
    if (!d->dose_gy)
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
    /* DCMTK gives OW words in host order; a 32-bit value is two words, most
     * significant first in a big-endian file. */
    bool big = xf.getByteOrder() == EBO_BigEndian;
    for (size_t i = 0; i < nvox; i++) {
        double v;
        if (d->bits_allocated == 16) {
            v = d->pixel_signed ? (double)(int16_t)w[i] : (double)w[i];
        } else {
            uint32_t lo = w[2 * i], hi = w[2 * i + 1];
            uint32_t u = big ? (lo << 16) | hi : (hi << 16) | lo;
            v = d->pixel_signed ? (double)(int32_t)u : (double)u;
        }
        d->dose_gy[i] = (float)(v * d->scaling);
    }
    return 0;
}

/* ---- RT Structure Set --------------------------------------------------- */

int read_contours(DcmItem *rc_item, hm_rtdcm_roi *roi, const char *name, hm_error *err)
{
    unsigned long n = seq_card(rc_item, DCM_ContourSequence);
    if (n == 0)
        return 0;
    roi->contours = (hm_rtdcm_contour *)calloc(n, sizeof *roi->contours);
    if (!roi->contours)
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
    roi->ncontours = n;
    for (unsigned long i = 0; i < n; i++) {
        DcmItem *ci = seq_item(rc_item, DCM_ContourSequence, i);
        hm_rtdcm_contour *c = &roi->contours[i];
        get_str(ci, DCM_ContourGeometricType, c->geometric_type, sizeof c->geometric_type);
        if (DcmItem *im = seq_item(ci, DCM_ContourImageSequence))
            get_str(im, DCM_ReferencedSOPInstanceUID, c->ref_sop_uid, sizeof c->ref_sop_uid);
        unsigned long nv = vm(ci, DCM_ContourData);
        int declared = get_int(ci, DCM_NumberOfContourPoints, -1);
        std::string where = "ROI " + std::to_string(roi->number) + " '" + roi->name
                            + "' contour " + std::to_string(i + 1);
        if (nv == 0)
            return fail(err, HM_EVALIDATE, name, DCM_ContourData,
                        where + " is empty; delete it or recontour the ROI");
        if (nv % 3 || (declared >= 0 && (unsigned long)declared * 3 != nv))
            return fail(err, HM_EVALIDATE, name, DCM_ContourData,
                        where + " has " + std::to_string(nv) + " coordinates for "
                            + std::to_string(declared) + " points (NumberOfContourPoints)");
        c->npoints = nv / 3;
        c->xyz_mm = (double *)malloc(nv * sizeof(double));
        if (!c->xyz_mm)
            return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
        for (unsigned long k = 0; k < nv; k++)
            if (!get_num(ci, DCM_ContourData, &c->xyz_mm[k], k))
                return fail(err, HM_EPARSE, name, DCM_ContourData,
                            where + ": coordinate " + std::to_string(k + 1) + " is not a number");
    }
    return 0;
}

int read_struct(DcmDataset *ds, hm_rtdcm_struct *s, const char *name, hm_error *err)
{
    read_common(ds, &s->c);
    get_str(ds, DCM_StructureSetLabel, s->label, sizeof s->label);
    DcmItem *fr = seq_item(ds, DCM_ReferencedFrameOfReferenceSequence);
    if (fr) {
        get_str(fr, DCM_FrameOfReferenceUID, s->c.frame_of_reference_uid,
                sizeof s->c.frame_of_reference_uid);
        DcmItem *st = seq_item(fr, DCM_RTReferencedStudySequence);
        DcmItem *se = st ? seq_item(st, DCM_RTReferencedSeriesSequence) : NULL;
        if (se) {
            get_str(se, DCM_SeriesInstanceUID, s->ref_ct_series_uid, sizeof s->ref_ct_series_uid);
            unsigned long n = seq_card(se, DCM_ContourImageSequence);
            if (n) {
                s->ref_ct_sop_uids = (char (*)[HM_RTDCM_UID_LEN])calloc(n, HM_RTDCM_UID_LEN);
                if (!s->ref_ct_sop_uids)
                    return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
                s->n_ref_ct_sops = n;
                for (unsigned long i = 0; i < n; i++)
                    get_str(seq_item(se, DCM_ContourImageSequence, i),
                            DCM_ReferencedSOPInstanceUID, s->ref_ct_sop_uids[i], HM_RTDCM_UID_LEN);
            }
        }
    }
    unsigned long nr = seq_card(ds, DCM_StructureSetROISequence);
    if (nr) {
        s->rois = (hm_rtdcm_roi *)calloc(nr, sizeof *s->rois);
        if (!s->rois)
            return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
        s->nrois = nr;
    }
    for (unsigned long i = 0; i < nr; i++) {
        DcmItem *ri = seq_item(ds, DCM_StructureSetROISequence, i);
        hm_rtdcm_roi *r = &s->rois[i];
        r->number = get_int(ri, DCM_ROINumber, -1);
        if (r->number < 0)
            return fail(err, HM_EVALIDATE, name, DCM_ROINumber,
                        "StructureSetROISequence item " + std::to_string(i + 1)
                            + " has no ROI number");
        for (unsigned long k = 0; k < i; k++)
            if (s->rois[k].number == r->number)
                return fail(err, HM_EVALIDATE, name, DCM_ROINumber,
                            "ROI number " + std::to_string(r->number) + " is used twice");
        get_str(ri, DCM_ROIName, r->name, sizeof r->name);
        get_str(ri, DCM_ROIGenerationAlgorithm, r->algorithm, sizeof r->algorithm);
        get_str(ri, DCM_ReferencedFrameOfReferenceUID, r->frame_of_reference_uid,
                sizeof r->frame_of_reference_uid);
    }
    unsigned long nc = seq_card(ds, DCM_ROIContourSequence);
    for (unsigned long i = 0; i < nc; i++) {
        DcmItem *ci = seq_item(ds, DCM_ROIContourSequence, i);
        int num = get_int(ci, DCM_ReferencedROINumber, -1);
        hm_rtdcm_roi *r = NULL;
        for (size_t k = 0; k < s->nrois; k++)
            if (s->rois[k].number == num)
                r = &s->rois[k];
        if (!r)
            return fail(err, HM_EVALIDATE, name, DCM_ReferencedROINumber,
                        "ROIContourSequence item " + std::to_string(i + 1) + " references ROI "
                            + std::to_string(num) + ", absent from StructureSetROISequence");
        if (r->contours)
            return fail(err, HM_EVALIDATE, name, DCM_ReferencedROINumber,
                        "ROI " + std::to_string(num) + " has two ROIContourSequence items");
        if (vm(ci, DCM_ROIDisplayColor) == 3)
            for (int k = 0; k < 3; k++) {
                double v = 0;
                get_num(ci, DCM_ROIDisplayColor, &v, (unsigned long)k);
                r->color[k] = (int)v;
            }
        int rc = read_contours(ci, r, name, err);
        if (rc)
            return rc;
    }
    unsigned long no = seq_card(ds, DCM_RTROIObservationsSequence);
    for (unsigned long i = 0; i < no; i++) {
        DcmItem *oi = seq_item(ds, DCM_RTROIObservationsSequence, i);
        int num = get_int(oi, DCM_ReferencedROINumber, -1);
        for (size_t k = 0; k < s->nrois; k++)
            if (s->rois[k].number == num)
                get_str(oi, DCM_RTROIInterpretedType, s->rois[k].interpreted_type,
                        sizeof s->rois[k].interpreted_type);
    }
    return 0;
}

/* ---- writing helpers ---------------------------------------------------- */

/* A DS value: at most 16 characters (PS3.5 §6.2), as precise as fits. */
std::string ds(double v)
{
    char buf[64];
    if (v == 0)
        return "0";
    for (int prec = 15; prec > 1; prec--) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strlen(buf) <= 16)
            return buf;
    }
    snprintf(buf, sizeof buf, "%.1e", v);
    return buf;
}

std::string ds_list(const double *v, size_t n)
{
    std::string s;
    for (size_t i = 0; i < n; i++) {
        if (i)
            s += '\\';
        s += ds(v[i]);
    }
    return s;
}

/* Collects the first DCMTK failure of a chain of puts. */
struct Put {
    OFCondition c = EC_Normal;
    void str(DcmItem *it, const DcmTagKey &t, const std::string &v)
    {
        if (c.good())
            c = it->putAndInsertString(t, v.c_str());
    }
    void num(DcmItem *it, const DcmTagKey &t, double v) { str(it, t, ds(v)); }
    void integer(DcmItem *it, const DcmTagKey &t, long v) { str(it, t, std::to_string(v)); }
    void nums(DcmItem *it, const DcmTagKey &t, const double *v, size_t n)
    {
        str(it, t, ds_list(v, n));
    }
    void us(DcmItem *it, const DcmTagKey &t, Uint16 v)
    {
        if (c.good())
            c = it->putAndInsertUint16(t, v);
    }
    DcmItem *item(DcmItem *it, const DcmTagKey &seq)
    {
        DcmItem *r = NULL;
        if (c.good())
            c = it->findOrCreateSequenceItem(seq, r, -2);
        return c.good() ? r : NULL;
    }
    void fl(DcmItem *it, const DcmTagKey &t, const double *v, size_t n)
    {
        if (c.bad())
            return;
        Float32 *f = new Float32[n];
        for (size_t i = 0; i < n; i++)
            f[i] = (Float32)v[i];
        c = it->putAndInsertFloat32Array(t, f, (unsigned long)n);
        delete[] f;
    }
};

void new_uid_if_empty(char *uid, const char *root)
{
    if (!uid[0])
        dcmGenerateUniqueIdentifier(uid, root);
}

/* Fills empty UIDs and writes the Patient, General Study, General Series,
 * Frame of Reference, General Equipment and SOP Common attributes. */
void put_common(Put &p, DcmDataset *ds, hm_rtdcm_common *c, const char *sop_class,
                const char *modality, bool with_for)
{
    snprintf(c->sop_class_uid, sizeof c->sop_class_uid, "%s", sop_class);
    snprintf(c->modality, sizeof c->modality, "%s", modality);
    new_uid_if_empty(c->sop_instance_uid, SITE_INSTANCE_UID_ROOT);
    new_uid_if_empty(c->study_uid, SITE_STUDY_UID_ROOT);
    new_uid_if_empty(c->series_uid, SITE_SERIES_UID_ROOT);
    if (with_for)
        new_uid_if_empty(c->frame_of_reference_uid, SITE_INSTANCE_UID_ROOT);
    p.str(ds, DCM_SOPClassUID, sop_class);
    p.str(ds, DCM_SOPInstanceUID, c->sop_instance_uid);
    p.str(ds, DCM_Modality, modality);
    p.str(ds, DCM_StudyInstanceUID, c->study_uid);
    p.str(ds, DCM_SeriesInstanceUID, c->series_uid);
    p.str(ds, DCM_StudyDate, c->study_date);
    p.str(ds, DCM_StudyTime, "");
    p.str(ds, DCM_ReferringPhysicianName, "");
    p.str(ds, DCM_StudyID, "1");
    p.str(ds, DCM_AccessionNumber, "");
    p.str(ds, DCM_SeriesNumber, "1");
    p.str(ds, DCM_PatientName, "SYNTHETIC^PATIENT");
    p.str(ds, DCM_PatientID, c->patient_id);
    p.str(ds, DCM_PatientBirthDate, c->patient_birth_date);
    p.str(ds, DCM_PatientSex, c->patient_sex);
    p.str(ds, DCM_Manufacturer, "harmonic");
    if (with_for) {
        p.str(ds, DCM_FrameOfReferenceUID, c->frame_of_reference_uid);
        p.str(ds, DCM_PositionReferenceIndicator, "");
    }
}

/* Saves beside the target and renames (no partial file on failure). */
int save(DcmFileFormat &ff, const char *path, const Put &p, hm_error *err)
{
    if (p.c.bad())
        return hm_error_set(err, HM_EINVAL, path, 0, NULL, "cannot build dataset: %s",
                            p.c.text());
    std::string tmp = std::string(path) + ".tmp";
    OFCondition c = ff.saveFile(tmp.c_str(), EXS_LittleEndianExplicit);
    if (c.bad()) {
        remove(tmp.c_str());
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write: %s", c.text());
    }
    if (rename(tmp.c_str(), path) != 0) {
        remove(tmp.c_str());
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot rename %s: %s", tmp.c_str(),
                            strerror(errno));
    }
    return 0;
}

bool same(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Writes control point k, leaving out what it inherits (C.8.8.14.5). */
void put_cp(Put &p, DcmItem *ci, const hm_rtdcm_beam *b, size_t k, bool ion)
{
    const hm_rtdcm_cp *cp = &b->cps[k], *pr = k ? &b->cps[k - 1] : NULL;
    p.integer(ci, DCM_ControlPointIndex, (long)k);
    p.num(ci, DCM_CumulativeMetersetWeight, cp->cum_meterset_weight);
    if (!pr || cp->energy_mev != pr->energy_mev)
        p.num(ci, DCM_NominalBeamEnergy, cp->energy_mev);
    if (!ion && cp->dose_rate_mu_min > 0 && (!pr || cp->dose_rate_mu_min != pr->dose_rate_mu_min))
        p.num(ci, DCM_DoseRateSet, cp->dose_rate_mu_min);
    bool jaws = !pr || !same(cp->jaw_x_mm, pr->jaw_x_mm, 2) || !same(cp->jaw_y_mm, pr->jaw_y_mm, 2);
    bool mlc = cp->mlc_pairs && (!pr || !same(cp->mlc_mm, pr->mlc_mm, 2 * (size_t)cp->mlc_pairs));
    if (!ion && (jaws || mlc)) {
        if (jaws) {
            DcmItem *j = p.item(ci, DCM_BeamLimitingDevicePositionSequence);
            if (j) {
                p.str(j, DCM_RTBeamLimitingDeviceType, "ASYMX");
                p.nums(j, DCM_LeafJawPositions, cp->jaw_x_mm, 2);
            }
            j = p.item(ci, DCM_BeamLimitingDevicePositionSequence);
            if (j) {
                p.str(j, DCM_RTBeamLimitingDeviceType, "ASYMY");
                p.nums(j, DCM_LeafJawPositions, cp->jaw_y_mm, 2);
            }
        }
        if (mlc) {
            DcmItem *m = p.item(ci, DCM_BeamLimitingDevicePositionSequence);
            if (m) {
                p.str(m, DCM_RTBeamLimitingDeviceType, "MLCX");
                p.nums(m, DCM_LeafJawPositions, cp->mlc_mm, 2 * (size_t)cp->mlc_pairs);
            }
        }
    }
    if (!pr || cp->gantry_deg != pr->gantry_deg)
        p.num(ci, DCM_GantryAngle, cp->gantry_deg);
    if (!pr || strcmp(cp->gantry_rotation, pr->gantry_rotation))
        p.str(ci, DCM_GantryRotationDirection, cp->gantry_rotation[0] ? cp->gantry_rotation : "NONE");
    if (!pr || cp->collimator_deg != pr->collimator_deg) {
        p.num(ci, DCM_BeamLimitingDeviceAngle, cp->collimator_deg);
        p.str(ci, DCM_BeamLimitingDeviceRotationDirection, "NONE");
    }
    if (!pr || cp->couch_deg != pr->couch_deg) {
        p.num(ci, DCM_PatientSupportAngle, cp->couch_deg);
        p.str(ci, DCM_PatientSupportRotationDirection, "NONE");
    }
    if (!pr || !same(cp->iso_mm, pr->iso_mm, 3))
        p.nums(ci, DCM_IsocenterPosition, cp->iso_mm, 3);
    if (ion) {
        if (b->n_snouts && (!pr || cp->snout_mm != pr->snout_mm))
            p.num(ci, DCM_SnoutPosition, cp->snout_mm);
        if (cp->nspots > 0) {
            p.str(ci, DCM_ScanSpotTuneID, "SPOT1");
            p.integer(ci, DCM_NumberOfScanSpotPositions, cp->nspots);
            p.fl(ci, DCM_ScanSpotPositionMap, cp->spot_xy_mm, 2 * (size_t)cp->nspots);
            p.fl(ci, DCM_ScanSpotMetersetWeights, cp->spot_weight, (size_t)cp->nspots);
            p.integer(ci, DCM_NumberOfPaintings, 1);
        }
    }
}

void put_beam(Put &p, DcmItem *bi, const hm_rtdcm_beam *b, bool ion)
{
    p.integer(bi, DCM_BeamNumber, b->number);
    p.str(bi, DCM_BeamName, b->name);
    p.str(bi, DCM_BeamType, b->beam_type[0] ? b->beam_type : "STATIC");
    p.str(bi, DCM_RadiationType, b->radiation_type);
    p.str(bi, DCM_TreatmentMachineName, b->machine[0] ? b->machine : "SYNTH");
    p.str(bi, DCM_PrimaryDosimeterUnit, b->dosimeter_unit[0] ? b->dosimeter_unit : "MU");
    p.str(bi, DCM_TreatmentDeliveryType, b->delivery_type[0] ? b->delivery_type : "TREATMENT");
    p.integer(bi, DCM_NumberOfWedges, b->n_wedges);
    p.integer(bi, DCM_NumberOfCompensators, b->n_compensators);
    p.integer(bi, DCM_NumberOfBoli, b->n_boli);
    p.integer(bi, DCM_NumberOfBlocks, b->n_blocks);
    p.num(bi, DCM_FinalCumulativeMetersetWeight, b->final_meterset_weight);
    p.integer(bi, DCM_NumberOfControlPoints, (long)b->ncp);
    if (ion) {
        p.str(bi, DCM_ScanMode, b->scan_mode[0] ? b->scan_mode : "NONE");
        double vsad[2] = { b->sad_mm, b->sad_mm };
        p.nums(bi, DCM_VirtualSourceAxisDistances, vsad, 2);
        p.integer(bi, DCM_NumberOfRangeShifters, b->n_range_shifters);
        p.integer(bi, DCM_NumberOfLateralSpreadingDevices, b->n_lateral_spreaders);
        p.integer(bi, DCM_NumberOfRangeModulators, b->n_range_modulators);
        for (int i = 0; i < b->n_snouts; i++)
            if (DcmItem *s = p.item(bi, DCM_SnoutSequence))
                p.str(s, DCM_SnoutID, "SNOUT" + std::to_string(i + 1));
        for (int i = 0; i < b->n_range_shifters; i++)
            if (DcmItem *s = p.item(bi, DCM_RangeShifterSequence)) {
                p.integer(s, DCM_RangeShifterNumber, i + 1);
                p.str(s, DCM_RangeShifterID, "RS" + std::to_string(i + 1));
                p.str(s, DCM_RangeShifterType, "BINARY");
            }
        for (int i = 0; i < b->n_lateral_spreaders; i++)
            if (DcmItem *s = p.item(bi, DCM_LateralSpreadingDeviceSequence)) {
                p.integer(s, DCM_LateralSpreadingDeviceNumber, i + 1);
                p.str(s, DCM_LateralSpreadingDeviceID, "LS" + std::to_string(i + 1));
                p.str(s, DCM_LateralSpreadingDeviceType, "SCATTERER");
            }
        for (int i = 0; i < b->n_range_modulators; i++)
            if (DcmItem *s = p.item(bi, DCM_RangeModulatorSequence)) {
                p.integer(s, DCM_RangeModulatorNumber, i + 1);
                p.str(s, DCM_RangeModulatorID, "RM" + std::to_string(i + 1));
                p.str(s, DCM_RangeModulatorType, "FIXED");
            }
    } else {
        p.num(bi, DCM_SourceAxisDistance, b->sad_mm > 0 ? b->sad_mm : 1000);
        const char *jaws[2] = { "ASYMX", "ASYMY" };
        for (int j = 0; j < 2; j++)
            if (DcmItem *d = p.item(bi, DCM_BeamLimitingDeviceSequence)) {
                p.str(d, DCM_RTBeamLimitingDeviceType, jaws[j]);
                p.integer(d, DCM_NumberOfLeafJawPairs, 1);
            }
        int pairs = b->ncp ? b->cps[0].mlc_pairs : 0;
        if (pairs > 0)
            if (DcmItem *d = p.item(bi, DCM_BeamLimitingDeviceSequence)) {
                /* Leaf boundaries: 5 mm leaves centred on the axis. */
                std::string bounds;
                for (int i = 0; i <= pairs; i++)
                    bounds += (i ? "\\" : "") + ds(5.0 * (i - pairs / 2.0));
                p.str(d, DCM_RTBeamLimitingDeviceType, "MLCX");
                p.integer(d, DCM_NumberOfLeafJawPairs, pairs);
                p.str(d, DCM_LeafPositionBoundaries, bounds);
            }
    }
    const DcmTagKey &cpseq = ion ? DCM_IonControlPointSequence : DCM_ControlPointSequence;
    for (size_t k = 0; k < b->ncp; k++)
        if (DcmItem *ci = p.item(bi, cpseq))
            put_cp(p, ci, b, k, ion);
}

int write_plan(const char *path, hm_rtdcm_plan *pl, hm_error *err)
{
    if (pl->nbeams == 0)
        return hm_error_set(err, HM_EINVAL, path, 0, "beams", "a plan needs at least one beam");
    for (size_t i = 0; i < pl->nbeams; i++)
        if (pl->beams[i].ncp < 2)
            return hm_error_set(err, HM_EINVAL, path, 0, "cps",
                                "beam %d has %zu control points, at least 2 are needed",
                                pl->beams[i].number, pl->beams[i].ncp);
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    Put p;
    put_common(p, ds, &pl->c, pl->ion ? HM_RTDCM_SOP_ION_PLAN : HM_RTDCM_SOP_PLAN, "RTPLAN", true);
    p.str(ds, DCM_RTPlanLabel, pl->label[0] ? pl->label : "PLAN");
    p.str(ds, DCM_RTPlanName, pl->name);
    p.str(ds, DCM_RTPlanDate, pl->date);
    p.str(ds, DCM_RTPlanTime, pl->time);
    p.str(ds, DCM_RTPlanGeometry, pl->ref_struct_uid[0] ? "PATIENT" : "TREATMENT_DEVICE");
    if (pl->ref_struct_uid[0])
        if (DcmItem *r = p.item(ds, DCM_ReferencedStructureSetSequence)) {
            p.str(r, DCM_ReferencedSOPClassUID, HM_RTDCM_SOP_STRUCT);
            p.str(r, DCM_ReferencedSOPInstanceUID, pl->ref_struct_uid);
        }
    for (int i = 0; i < pl->n_ref_doses && i < HM_RTDCM_MAX_REFS; i++)
        if (DcmItem *r = p.item(ds, DCM_ReferencedDoseSequence)) {
            p.str(r, DCM_ReferencedSOPClassUID, HM_RTDCM_SOP_DOSE);
            p.str(r, DCM_ReferencedSOPInstanceUID, pl->ref_dose_uids[i]);
        }
    for (int i = 0; i < pl->n_ref_plans && i < HM_RTDCM_MAX_REFS; i++)
        if (DcmItem *r = p.item(ds, DCM_ReferencedRTPlanSequence)) {
            const hm_rtdcm_plan_ref *q = &pl->ref_plans[i];
            p.str(r, DCM_ReferencedSOPClassUID, pl->ion ? HM_RTDCM_SOP_ION_PLAN : HM_RTDCM_SOP_PLAN);
            p.str(r, DCM_ReferencedSOPInstanceUID, q->uid);
            p.str(r, DCM_RTPlanRelationship, q->relationship[0] ? q->relationship : "PREDECESSOR");
        }
    for (size_t i = 0; i < pl->ndoserefs; i++)
        if (DcmItem *r = p.item(ds, DCM_DoseReferenceSequence)) {
            const hm_rtdcm_doseref *d = &pl->doserefs[i];
            p.integer(r, DCM_DoseReferenceNumber, d->number);
            p.str(r, DCM_DoseReferenceStructureType, d->structure_type[0] ? d->structure_type : "SITE");
            p.str(r, DCM_DoseReferenceDescription, d->description);
            p.str(r, DCM_DoseReferenceType, d->type[0] ? d->type : "TARGET");
            if (d->roi_number)
                p.integer(r, DCM_ReferencedROINumber, d->roi_number);
            if (d->target_rx_dose_gy > 0)
                p.num(r, DCM_TargetPrescriptionDose, d->target_rx_dose_gy);
        }
    if (DcmItem *fg = p.item(ds, DCM_FractionGroupSequence)) {
        p.integer(fg, DCM_FractionGroupNumber, 1);
        p.integer(fg, DCM_NumberOfFractionsPlanned, pl->fractions_planned);
        p.integer(fg, DCM_NumberOfBeams, (long)pl->nbeams);
        p.integer(fg, DCM_NumberOfBrachyApplicationSetups, 0);
        for (size_t i = 0; i < pl->nbeams; i++)
            if (DcmItem *rb = p.item(fg, DCM_ReferencedBeamSequence)) {
                if (pl->beams[i].beam_dose_gy > 0)
                    p.num(rb, DCM_BeamDose, pl->beams[i].beam_dose_gy);
                p.num(rb, DCM_BeamMeterset, pl->beams[i].meterset);
                p.integer(rb, DCM_ReferencedBeamNumber, pl->beams[i].number);
            }
    }
    const DcmTagKey &bseq = pl->ion ? DCM_IonBeamSequence : DCM_BeamSequence;
    for (size_t i = 0; i < pl->nbeams; i++)
        if (DcmItem *bi = p.item(ds, bseq))
            put_beam(p, bi, &pl->beams[i], pl->ion);
    return save(ff, path, p, err);
}

int write_dose(const char *path, hm_rtdcm_dose *d, hm_error *err)
{
    if (d->rows < 1 || d->cols < 1 || d->nframes < 1 || !d->dose_gy)
        return hm_error_set(err, HM_EINVAL, path, 0, "rows", "empty dose grid");
    if (d->bits_allocated != 16 && d->bits_allocated != 32)
        return hm_error_set(err, HM_EINVAL, path, 0, "bits_allocated",
                            "bits_allocated is %d, expected 16 or 32", d->bits_allocated);
    if (d->nframes > 1 && !d->frame_offsets_mm)
        return hm_error_set(err, HM_EINVAL, path, 0, "frame_offsets_mm",
                            "a multi-frame grid needs frame offsets");
    size_t nvox = (size_t)d->rows * (size_t)d->cols * (size_t)d->nframes;
    double maxv = 0;
    for (size_t i = 0; i < nvox; i++) {
        if (!(d->dose_gy[i] >= 0) || !std::isfinite(d->dose_gy[i]))
            return hm_error_set(err, HM_EINVAL, path, (long)i, "dose_gy",
                                "voxel %zu is negative or not finite", i);
        if (d->dose_gy[i] > maxv)
            maxv = d->dose_gy[i];
    }
    /* Largest stored value 2^bits - 1; the scaling is written as DS and
     * re-read, so stored values are quantised with exactly what readers use. */
    double top = d->bits_allocated == 16 ? 65535.0 : 4294967295.0;
    std::string sc = ds(maxv > 0 ? maxv / top * (1 + 1e-9) : 1e-6);
    d->scaling = strtod(sc.c_str(), NULL);
    while (maxv / d->scaling > top) {        /* DS rounding went down: nudge up */
        sc = ds(d->scaling * (1 + 1e-6));
        d->scaling = strtod(sc.c_str(), NULL);
    }
    DcmFileFormat ff;
    DcmDataset *ds_ = ff.getDataset();
    Put p;
    put_common(p, ds_, &d->c, HM_RTDCM_SOP_DOSE, "RTDOSE", true);
    p.str(ds_, DCM_InstanceNumber, "1");
    p.nums(ds_, DCM_ImagePositionPatient, d->ipp_mm, 3);
    p.nums(ds_, DCM_ImageOrientationPatient, d->iop, 6);
    p.nums(ds_, DCM_PixelSpacing, d->spacing_mm, 2);
    p.str(ds_, DCM_SliceThickness, "");
    p.us(ds_, DCM_SamplesPerPixel, 1);
    p.str(ds_, DCM_PhotometricInterpretation, "MONOCHROME2");
    p.us(ds_, DCM_Rows, (Uint16)d->rows);
    p.us(ds_, DCM_Columns, (Uint16)d->cols);
    p.integer(ds_, DCM_NumberOfFrames, d->nframes);
    if (p.c.good())
        p.c = ds_->putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_GridFrameOffsetVector);
    p.us(ds_, DCM_BitsAllocated, (Uint16)d->bits_allocated);
    p.us(ds_, DCM_BitsStored, (Uint16)d->bits_allocated);
    p.us(ds_, DCM_HighBit, (Uint16)(d->bits_allocated - 1));
    p.us(ds_, DCM_PixelRepresentation, 0);
    p.str(ds_, DCM_DoseUnits, d->dose_units[0] ? d->dose_units : "GY");
    p.str(ds_, DCM_DoseType, d->dose_type[0] ? d->dose_type : "PHYSICAL");
    p.str(ds_, DCM_DoseSummationType, d->summation_type[0] ? d->summation_type : "PLAN");
    double zero = 0;
    p.nums(ds_, DCM_GridFrameOffsetVector, d->frame_offsets_mm ? d->frame_offsets_mm : &zero,
           (size_t)d->nframes);
    p.str(ds_, DCM_DoseGridScaling, sc);
    if (d->ref_plan_uid[0])
        if (DcmItem *r = p.item(ds_, DCM_ReferencedRTPlanSequence)) {
            p.str(r, DCM_ReferencedSOPClassUID, HM_RTDCM_SOP_PLAN);
            p.str(r, DCM_ReferencedSOPInstanceUID, d->ref_plan_uid);
        }
    if (p.c.good()) {
        /* 16-bit words in little-endian host order; a 32-bit value is its
         * low word then its high word, as DCMTK writes OW little endian. */
        size_t nw = nvox * (size_t)(d->bits_allocated / 16);
        Uint16 *w = new Uint16[nw];
        for (size_t i = 0; i < nvox; i++) {
            double q = floor(d->dose_gy[i] / d->scaling + 0.5);
            if (q > top)
                q = top;
            if (d->bits_allocated == 16) {
                w[i] = (Uint16)q;
            } else {
                uint32_t u = (uint32_t)q;
                w[2 * i] = (Uint16)(u & 0xFFFFu);
                w[2 * i + 1] = (Uint16)(u >> 16);
            }
        }
        p.c = ds_->putAndInsertUint16Array(DCM_PixelData, w, (unsigned long)nw);
        delete[] w;
    }
    return save(ff, path, p, err);
}

int write_struct(const char *path, hm_rtdcm_struct *s, hm_error *err)
{
    DcmFileFormat ff;
    DcmDataset *ds = ff.getDataset();
    Put p;
    /* The structure set's frame of reference lives in its referenced frame
     * sequence; without one it needs a fresh UID too. */
    new_uid_if_empty(s->c.frame_of_reference_uid, SITE_INSTANCE_UID_ROOT);
    put_common(p, ds, &s->c, HM_RTDCM_SOP_STRUCT, "RTSTRUCT", false);
    p.str(ds, DCM_InstanceNumber, "1");
    p.str(ds, DCM_StructureSetLabel, s->label[0] ? s->label : "STRUCTS");
    p.str(ds, DCM_StructureSetDate, s->c.study_date);
    p.str(ds, DCM_StructureSetTime, "");
    if (DcmItem *fr = p.item(ds, DCM_ReferencedFrameOfReferenceSequence)) {
        p.str(fr, DCM_FrameOfReferenceUID, s->c.frame_of_reference_uid);
        if (s->ref_ct_series_uid[0])
            if (DcmItem *st = p.item(fr, DCM_RTReferencedStudySequence)) {
                /* Study Component Management SOP class, as PS3.3 C.8.8.5 asks. */
                p.str(st, DCM_ReferencedSOPClassUID, "1.2.840.10008.3.1.2.3.1");
                p.str(st, DCM_ReferencedSOPInstanceUID, s->c.study_uid);
                if (DcmItem *se = p.item(st, DCM_RTReferencedSeriesSequence)) {
                    p.str(se, DCM_SeriesInstanceUID, s->ref_ct_series_uid);
                    for (size_t i = 0; i < s->n_ref_ct_sops; i++)
                        if (DcmItem *im = p.item(se, DCM_ContourImageSequence)) {
                            p.str(im, DCM_ReferencedSOPClassUID, HM_RTDCM_SOP_CT);
                            p.str(im, DCM_ReferencedSOPInstanceUID, s->ref_ct_sop_uids[i]);
                        }
                }
            }
    }
    for (size_t i = 0; i < s->nrois; i++)
        if (DcmItem *r = p.item(ds, DCM_StructureSetROISequence)) {
            const hm_rtdcm_roi *roi = &s->rois[i];
            p.integer(r, DCM_ROINumber, roi->number);
            p.str(r, DCM_ReferencedFrameOfReferenceUID,
                  roi->frame_of_reference_uid[0] ? roi->frame_of_reference_uid
                                                 : s->c.frame_of_reference_uid);
            p.str(r, DCM_ROIName, roi->name);
            p.str(r, DCM_ROIGenerationAlgorithm, roi->algorithm[0] ? roi->algorithm : "AUTOMATIC");
        }
    for (size_t i = 0; i < s->nrois; i++)
        if (DcmItem *r = p.item(ds, DCM_ROIContourSequence)) {
            const hm_rtdcm_roi *roi = &s->rois[i];
            char col[48];
            snprintf(col, sizeof col, "%d\\%d\\%d", roi->color[0], roi->color[1], roi->color[2]);
            p.str(r, DCM_ROIDisplayColor, col);
            for (size_t k = 0; k < roi->ncontours; k++)
                if (DcmItem *c = p.item(r, DCM_ContourSequence)) {
                    const hm_rtdcm_contour *ct = &roi->contours[k];
                    if (ct->ref_sop_uid[0])
                        if (DcmItem *im = p.item(c, DCM_ContourImageSequence)) {
                            p.str(im, DCM_ReferencedSOPClassUID, HM_RTDCM_SOP_CT);
                            p.str(im, DCM_ReferencedSOPInstanceUID, ct->ref_sop_uid);
                        }
                    p.str(c, DCM_ContourGeometricType,
                          ct->geometric_type[0] ? ct->geometric_type : "CLOSED_PLANAR");
                    p.integer(c, DCM_NumberOfContourPoints, (long)ct->npoints);
                    p.nums(c, DCM_ContourData, ct->xyz_mm, 3 * ct->npoints);
                }
            p.integer(r, DCM_ReferencedROINumber, roi->number);
        }
    for (size_t i = 0; i < s->nrois; i++)
        if (DcmItem *o = p.item(ds, DCM_RTROIObservationsSequence)) {
            p.integer(o, DCM_ObservationNumber, s->rois[i].number);
            p.integer(o, DCM_ReferencedROINumber, s->rois[i].number);
            p.str(o, DCM_RTROIInterpretedType, s->rois[i].interpreted_type);
            p.str(o, DCM_ROIInterpreter, "");
        }
    return save(ff, path, p, err);
}

/* Runs f on the parsed buffer of a file; catches DCMTK's allocations. */
template <typename F>
int with_memory(const void *data, size_t size, const char *name, const char *const *sops,
                const char *what, F f, hm_error *err)
{
    try {
        DcmFileFormat ff;
        int rc = open_ds(data, size, name, ff, sops, what, err);
        if (rc)
            return rc;
        return f(ff.getDataset(), err);
    } catch (const std::bad_alloc &) {
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory reading DICOM");
    } catch (...) {
        return hm_error_set(err, HM_EPARSE, name, 0, NULL, "corrupt DICOM file");
    }
}

template <typename F>
int with_file(const char *path, F f, hm_error *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = hm_dcm_slurp(path, &buf, &len, err);
    if (rc == 0)
        rc = f(buf, len);
    free(buf);
    return rc;
}

const char *const kPlanSops[] = { HM_RTDCM_SOP_PLAN, HM_RTDCM_SOP_ION_PLAN, NULL };
const char *const kDoseSops[] = { HM_RTDCM_SOP_DOSE, NULL };
const char *const kStructSops[] = { HM_RTDCM_SOP_STRUCT, NULL };
const char *const kCtSops[] = { HM_RTDCM_SOP_CT, "1.2.840.10008.5.1.4.1.1.2.1", NULL };

} // namespace

extern "C" {

void hm_rtdcm__new_uid(char *buf)
{
    dcmGenerateUniqueIdentifier(buf, SITE_INSTANCE_UID_ROOT);
}

int hm_rtdcm_plan_read_memory(const void *data, size_t size, const char *name,
                              hm_rtdcm_plan *plan, hm_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (!name)
        name = "(memory)";
    int rc = with_memory(data, size, name, kPlanSops, "an RT Plan or RT Ion Plan",
                         [&](DcmDataset *ds, hm_error *e) { return read_plan(ds, plan, name, e); },
                         err);
    if (rc)
        hm_rtdcm_plan_free(plan);
    return rc;
}

int hm_rtdcm_plan_read_file(const char *path, hm_rtdcm_plan *plan, hm_error *err)
{
    memset(plan, 0, sizeof *plan);
    return with_file(path, [&](const void *b, size_t n) {
        return hm_rtdcm_plan_read_memory(b, n, path, plan, err);
    }, err);
}

int hm_rtdcm_dose_read_memory(const void *data, size_t size, const char *name,
                              hm_rtdcm_dose *dose, hm_error *err)
{
    memset(dose, 0, sizeof *dose);
    if (!name)
        name = "(memory)";
    int rc;
    try {
        DcmFileFormat ff;
        rc = open_ds(data, size, name, ff, kDoseSops, "an RT Dose", err);
        if (!rc)
            rc = read_dose(ff.getDataset(), ff.getDataset()->getOriginalXfer(), dose, name, err);
    } catch (const std::bad_alloc &) {
        rc = hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory reading DICOM");
    } catch (...) {
        rc = hm_error_set(err, HM_EPARSE, name, 0, NULL, "corrupt DICOM file");
    }
    if (rc)
        hm_rtdcm_dose_free(dose);
    return rc;
}

int hm_rtdcm_dose_read_file(const char *path, hm_rtdcm_dose *dose, hm_error *err)
{
    memset(dose, 0, sizeof *dose);
    return with_file(path, [&](const void *b, size_t n) {
        return hm_rtdcm_dose_read_memory(b, n, path, dose, err);
    }, err);
}

int hm_rtdcm_struct_read_memory(const void *data, size_t size, const char *name,
                                hm_rtdcm_struct *ss, hm_error *err)
{
    memset(ss, 0, sizeof *ss);
    if (!name)
        name = "(memory)";
    int rc = with_memory(data, size, name, kStructSops, "an RT Structure Set",
                         [&](DcmDataset *ds, hm_error *e) { return read_struct(ds, ss, name, e); },
                         err);
    if (rc)
        hm_rtdcm_struct_free(ss);
    return rc;
}

int hm_rtdcm_struct_read_file(const char *path, hm_rtdcm_struct *ss, hm_error *err)
{
    memset(ss, 0, sizeof *ss);
    return with_file(path, [&](const void *b, size_t n) {
        return hm_rtdcm_struct_read_memory(b, n, path, ss, err);
    }, err);
}

int hm_rtdcm_object_read_file(const char *path, hm_rtdcm_object *o, hm_error *err)
{
    memset(o, 0, sizeof *o);
    snprintf(o->path, sizeof o->path, "%s", path);
    return with_file(path, [&](const void *b, size_t n) {
        try {
            DcmFileFormat ff;
            int rc = hm_dcm_parse_buffer(b, n, path, ff, err);
            if (rc)
                return rc;
            DcmDataset *ds = ff.getDataset();
            read_common(ds, &o->c);
            const char *sop = o->c.sop_class_uid;
            if (!strcmp(sop, HM_RTDCM_SOP_PLAN) || !strcmp(sop, HM_RTDCM_SOP_ION_PLAN)) {
                o->kind = strcmp(sop, HM_RTDCM_SOP_PLAN) ? HM_RTDCM_ION_PLAN : HM_RTDCM_PLAN;
                if (DcmItem *r = seq_item(ds, DCM_ReferencedStructureSetSequence))
                    get_str(r, DCM_ReferencedSOPInstanceUID, o->ref_struct_uid,
                            sizeof o->ref_struct_uid);
            } else if (!strcmp(sop, HM_RTDCM_SOP_DOSE)) {
                o->kind = HM_RTDCM_DOSE;
                if (DcmItem *r = seq_item(ds, DCM_ReferencedRTPlanSequence))
                    get_str(r, DCM_ReferencedSOPInstanceUID, o->ref_plan_uid,
                            sizeof o->ref_plan_uid);
            } else if (!strcmp(sop, HM_RTDCM_SOP_STRUCT)) {
                o->kind = HM_RTDCM_STRUCT;
                DcmItem *fr = seq_item(ds, DCM_ReferencedFrameOfReferenceSequence);
                DcmItem *st = fr ? seq_item(fr, DCM_RTReferencedStudySequence) : NULL;
                DcmItem *se = st ? seq_item(st, DCM_RTReferencedSeriesSequence) : NULL;
                if (fr)
                    get_str(fr, DCM_FrameOfReferenceUID, o->c.frame_of_reference_uid,
                            sizeof o->c.frame_of_reference_uid);
                if (se)
                    get_str(se, DCM_SeriesInstanceUID, o->ref_ct_series_uid,
                            sizeof o->ref_ct_series_uid);
            } else if (!strcmp(sop, kCtSops[0]) || !strcmp(sop, kCtSops[1])) {
                o->kind = HM_RTDCM_CT;
            }
            return 0;
        } catch (const std::bad_alloc &) {
            return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory reading DICOM");
        } catch (...) {
            return hm_error_set(err, HM_EPARSE, path, 0, NULL, "corrupt DICOM file");
        }
    }, err);
}

int hm_rtdcm__ct_image_read(const char *path, hm_rtdcm_common *c, hm_rtdcm_ct_slice *slice,
                            double iop[6], double spacing_mm[2], double *thickness_mm,
                            int *rows, int *cols, hm_error *err)
{
    return with_file(path, [&](const void *b, size_t n) {
        return with_memory(b, n, path, kCtSops, "a CT image", [&](DcmDataset *ds, hm_error *e) {
            memset(c, 0, sizeof *c);
            memset(slice, 0, sizeof *slice);
            read_common(ds, c);
            snprintf(slice->sop_instance_uid, sizeof slice->sop_instance_uid, "%s",
                     c->sop_instance_uid);
            slice->instance_number = get_int(ds, DCM_InstanceNumber, 0);
            int rc = get_nums(ds, DCM_ImagePositionPatient, slice->ipp_mm, 3, path,
                              "ImagePositionPatient", e);
            if (!rc)
                rc = get_nums(ds, DCM_ImageOrientationPatient, iop, 6, path,
                              "ImageOrientationPatient", e);
            if (!rc)
                rc = get_nums(ds, DCM_PixelSpacing, spacing_mm, 2, path, "PixelSpacing", e);
            if (rc)
                return rc;
            *thickness_mm = 0;
            get_num(ds, DCM_SliceThickness, thickness_mm);
            *rows = get_int(ds, DCM_Rows, 0);
            *cols = get_int(ds, DCM_Columns, 0);
            if (*rows < 1 || *cols < 1)
                return fail(e, HM_EVALIDATE, path, DCM_Rows, "Rows/Columns absent or zero");
            return 0;
        }, err);
    }, err);
}

int hm_rtdcm__ct_image_write(const char *path, const hm_rtdcm_ct *ct, size_t k,
                             const int16_t *hu, hm_error *err)
{
    try {
        DcmFileFormat ff;
        DcmDataset *ds = ff.getDataset();
        Put p;
        hm_rtdcm_common c = ct->c;
        snprintf(c.sop_instance_uid, sizeof c.sop_instance_uid, "%s",
                 ct->slices[k].sop_instance_uid);
        put_common(p, ds, &c, HM_RTDCM_SOP_CT, "CT", true);
        p.str(ds, DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
        p.integer(ds, DCM_InstanceNumber, ct->slices[k].instance_number);
        p.str(ds, DCM_KVP, "");
        p.nums(ds, DCM_ImagePositionPatient, ct->slices[k].ipp_mm, 3);
        p.nums(ds, DCM_ImageOrientationPatient, ct->iop, 6);
        p.nums(ds, DCM_PixelSpacing, ct->spacing_mm, 2);
        p.num(ds, DCM_SliceThickness, ct->slice_thickness_mm);
        p.us(ds, DCM_SamplesPerPixel, 1);
        p.str(ds, DCM_PhotometricInterpretation, "MONOCHROME2");
        p.us(ds, DCM_Rows, (Uint16)ct->rows);
        p.us(ds, DCM_Columns, (Uint16)ct->cols);
        p.us(ds, DCM_BitsAllocated, 16);
        p.us(ds, DCM_BitsStored, 16);
        p.us(ds, DCM_HighBit, 15);
        p.us(ds, DCM_PixelRepresentation, 1);
        p.str(ds, DCM_RescaleIntercept, "0");
        p.str(ds, DCM_RescaleSlope, "1");
        p.str(ds, DCM_RescaleType, "HU");
        size_t n = (size_t)ct->rows * (size_t)ct->cols;
        Uint16 *w = new Uint16[n];
        for (size_t i = 0; i < n; i++)
            w[i] = (Uint16)(hu ? hu[i] : (int16_t)-1000);
        if (p.c.good())
            p.c = ds->putAndInsertUint16Array(DCM_PixelData, w, (unsigned long)n);
        delete[] w;
        return save(ff, path, p, err);
    } catch (const std::bad_alloc &) {
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory writing DICOM");
    }
}

int hm_rtdcm_struct_write(const char *path, hm_rtdcm_struct *ss, hm_error *err)
{
    try {
        return write_struct(path, ss, err);
    } catch (const std::bad_alloc &) {
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory writing DICOM");
    }
}

int hm_rtdcm_plan_write(const char *path, hm_rtdcm_plan *plan, hm_error *err)
{
    try {
        return write_plan(path, plan, err);
    } catch (const std::bad_alloc &) {
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory writing DICOM");
    }
}

int hm_rtdcm_dose_write(const char *path, hm_rtdcm_dose *dose, hm_error *err)
{
    try {
        return write_dose(path, dose, err);
    } catch (const std::bad_alloc &) {
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory writing DICOM");
    }
}

} // extern "C"
